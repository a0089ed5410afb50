"""The context step: the files the patch prompt shows and the related signatures (not the baseline: the
patch prompt does not use it, so the baseline runs on while the first patch is written)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...core.vocab import Step, Tier
from ...repo.context import FileContext, context_budget, gather_files
from ...routing.policy import RoutePlan
from .session import Session

RELATED_SIGNATURE_TOKENS = 1000


@dataclass(frozen=True)
class PatchContext:
    files: FileContext
    related: str  # signatures of the files the picked ones use or are used by ("" when none)

    def smaller(self) -> tuple[PatchContext, str] | None:
        """This context with its least important part dropped (the related signatures, then the
        last-picked file), and what was dropped; None when nothing is left to drop."""
        if self.related:
            return replace(self, related=""), "the related signatures"
        if len(self.files.texts) > 1:
            last = list(self.files.texts)[-1]
            files = FileContext(
                {p: t for p, t in self.files.texts.items() if p != last},
                {**self.files.dropped, last: "over the context window"},
            )
            return replace(self, files=files), last
        return None


def gather(s: Session, request: str, plan: RoutePlan) -> PatchContext:
    picked = list(s.opts.pinned)  # the user's (chat's) pinned files come first
    for name in plan.effective.files:  # the small model's picks, checked against the repository
        resolved = name if (s.ws.root / name).is_file() else s.repo_map().resolve(name)
        picked.append(resolved or name)
    route: dict[Tier, int] = {}  # the most each tier on the route may write, its reasoning included
    for r in plan.ladder:
        route[r.tier] = max(route.get(r.tier, 0), s.gw.output_cap(Step.PATCH, r.tier, r.effort, r.effort_raise))
    budget = context_budget(
        s.cfg.context.max_file_tokens, {t: (s.context_windows.get(t), out) for t, out in route.items()}
    )
    files = gather_files(s.ws, list(dict.fromkeys(picked)), budget)
    for path, why in files.dropped.items():
        s.events.warn(f"not shown to the model: {path} ({why})")
    related = s.repo_map().related_signatures(list(files.texts), RELATED_SIGNATURE_TOKENS) if files.texts else ""
    return PatchContext(files, related)
