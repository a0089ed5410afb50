"""What every step of a fix run is handed: its dependencies, options and services.

A `Session` holds services only (the gateway, the journal, the validator, the event reporter);
steps pass their results to each other as return values, never through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...core.config import Config
from ...core.events import OnEvent, ignore_events
from ...core.vocab import Step, Tier
from ...judge.validation import Validator
from ...model.gateway import CallPolicy, Gateway, Unavailable
from ...model.protocol import Models
from ...repo.journal import FileJournal
from ...repo.map import RepoMap
from ...repo.runner import CommandRunner
from ...repo.workspace import GitWorkspace
from ...risk.rules import RiskRules
from ..skeleton import Decision, Reporter

Confirm = Callable[[str, str], bool]  # (question, diff) -> the user's answer

# What each step of `fix` does when its tier cannot be reached (see model/gateway.py), and which steps
# need so little thought that they run at the model's lowest reasoning effort.
FIX_POLICIES: dict[Step, CallPolicy] = {
    Step.CLASSIFY: CallPolicy(Unavailable.FALL_BACK, "the heuristic classifies", least_effort=True),
    Step.REPRO: CallPolicy(Unavailable.FAIL),
    Step.PATCH: CallPolicy(Unavailable.SKIP_TIER, "moving on to the next tier"),
    Step.SUMMARIZE: CallPolicy(Unavailable.FALL_BACK, "the trimmed output is sent as it is", least_effort=True),
    Step.REVIEW: CallPolicy(Unavailable.FALL_BACK, "the high-risk patch is not accepted unreviewed"),
    # the tests passed: an unreachable verifier (or one over the budget) leaves the patch on their evidence
    Step.VERIFY: CallPolicy(
        Unavailable.FALL_BACK, "the patch is kept on the tests' evidence alone", over_budget_falls_back=True
    ),
    Step.COMMIT_MESSAGE: CallPolicy(
        Unavailable.FALL_BACK,
        "the commit message is made from the request",
        over_budget_falls_back=True,
        least_effort=True,
    ),
}


@dataclass
class FixOptions:
    commit: bool = False
    branch: str | None = None  # commit on this new branch (implies commit); never pushed
    repro: bool = False  # write a failing test first; the patch must make it pass
    keep_repro: bool = False
    allow_test_edits: bool = False
    exit_code_only: bool = (
        False  # a red baseline without per-test results is judged by exit code: the whole command must pass
    )
    # a follow-up (chat, fix --continue): what came before, shown to the models with the request
    earlier: str = ""
    pinned: tuple[str, ...] = ()  # files always shown to the patch step (chat's /add, and files kept patches touched)
    start_tier: Tier | None = None  # the user's start of the ladder (chat's /tier); None: routing decides
    # chat: the kept patch's test run becomes the baseline of the next message, which starts from that tree
    # (it replaces the stored baseline of the tree before the patch, so `fix` alone does not do it)
    next_baseline: bool = False


@dataclass
class FixDeps:
    ws: GitWorkspace
    config: Config
    runner: CommandRunner
    models: Callable[
        [], Models
    ]  # may still be loading (litellm's import) when the run starts; waited for after the baseline
    repo_map: Callable[[], RepoMap]
    test_command: str
    lint_command: str | None = None
    on_event: OnEvent = ignore_events
    confirm: Confirm | None = None  # None: nobody to ask (CI, --json); protected edits are refused
    keep: Callable[[str], Decision] | None = None  # asked with the validated diff before it is kept; None: kept
    # the user-level record of each model's edit-format outcomes (flows/format_memory.py), read by
    # `edit_format: auto` and added to after the run; None: this run neither reads nor teaches it
    format_memory: Path | None = None


@dataclass(frozen=True)
class Session:
    deps: FixDeps
    opts: FixOptions
    gw: Gateway
    journal: FileJournal
    validator: Validator
    risk_rules: RiskRules
    events: Reporter
    repo_map: Callable[[], RepoMap]  # built on first use, then the same map
    context_windows: dict[Tier, int | None] = field(default_factory=dict)  # per tier; None: unknown

    @property
    def cfg(self) -> Config:
        return self.deps.config

    @property
    def ws(self) -> GitWorkspace:
        return self.deps.ws

    def refuse(self, path: str) -> str | None:
        """Why a model may not see or patch `path` (secret-looking, ignored by git, read-only, in a
        submodule), or None."""
        _, refused = self.ws.shareable([path])
        return refused.get(path) or self.ws.unpatchable(path)

    def current(self, rel: str | None) -> bytes | None:
        """The bytes of `rel` on disk now (None: no such file)."""
        if rel is None:
            return None
        p = self.ws.root / rel
        return p.read_bytes() if p.is_file() else None
