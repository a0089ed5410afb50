"""The edit format each tier of the ladder starts with, from its model, its files and what was learned.

The choice itself is routing's (routing/edit_format.py); this module gathers what it needs: the files
that could be written out whole, whether they fit the tier's output limit, this repository's ledger
and the user-level record of each model's outcomes (flows/format_memory.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core.tokens import estimate_tokens
from ...core.vocab import Tier
from ...judge.tamper import protected_edit
from ...model.ledger import read_history
from ...repo.patching import whole_file_eligible
from ...routing.edit_format import FormatChoice, choose_format, merge_learned, prior_format
from ..format_memory import read_memory
from ..ledger_summary import format_records
from .attempt import PatchTask
from .session import Session

WHOLE_FILE_ROOM = 0.8  # whole files must fit in this share of the output limit (room for a sentence)


def whole_targets(s: Session, task: PatchTask) -> tuple[str, ...]:
    """The files the request is about that can be written out whole (existing text files of at most
    400 lines that may be patched). Tests and what else judges the patch are left out unless test edits
    are allowed: the model sees them for reference, since a rewrite of them would be refused anyway."""
    commands = (s.deps.test_command, s.deps.lint_command)
    return tuple(
        p
        for p in task.context.files.texts
        if whole_file_eligible(p, s.ws.root)
        and not s.refuse(p)
        and (s.opts.allow_test_edits or protected_edit(p, None, None, commands) is None)
    )


def _fits(s: Session, tier: Tier, targets: tuple[str, ...]) -> bool:
    if not targets:
        return False
    size = sum(estimate_tokens((s.ws.root / p).read_text(errors="replace")) for p in targets)
    return size <= s.cfg.tier(tier).max_output_tokens * WHOLE_FILE_ROOM


def start_formats(s: Session, task: PatchTask, tiers: Iterable[Tier]) -> dict[Tier, FormatChoice]:
    """For each tier, the format its first attempt uses and why."""
    targets = whole_targets(s, task)
    history: list[dict[str, Any]] | None = None
    out: dict[Tier, FormatChoice] = {}
    for tier in dict.fromkeys(tiers):
        cfg = s.cfg.tier(tier)
        prior = prior_format(cfg.model, cfg.api_base, s.cfg.routing.edit_formats)
        learned = None
        if cfg.edit_format == "auto":
            history = read_history(s.ws.state_dir) if history is None else history
            memory = s.deps.format_memory
            everywhere = read_memory(memory, cfg.model) if memory is not None else {}
            learned = merge_learned(cfg.model, format_records(history, cfg.model), everywhere)
        out[tier] = choose_format(cfg.edit_format, prior, learned, _fits(s, tier, targets))
    return out


def routing_view(choices: dict[Tier, FormatChoice]) -> dict[str, dict[str, str]]:
    """For `--explain-routing` and `--json`: each tier's start format and why."""
    return {tier: {"format": c.format, "why": c.why} for tier, c in choices.items()}
