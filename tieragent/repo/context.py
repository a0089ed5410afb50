"""The files a patch step sees: only files inside the repo that exist, may be shared, and fit the budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.tokens import estimate_tokens
from .patching import PathRefused, check_path, strip_git_prefix
from .workspace import GitWorkspace

DEFAULT_CONTEXT_WINDOW = 32_000  # tokens, for a model whose window nobody knows
PROMPT_RESERVE_TOKENS = 3_000  # instructions, related signatures and feedback around the files


def context_budget(cap: int, route: dict[str, tuple[int | None, int]]) -> int:
    """File tokens for the patch prompt: the configured cap, within the smallest context window on the
    route (tier -> (window or None, max output tokens)), leaving room for the reply and the prompt."""
    budget = cap
    for window, max_output in route.values():
        budget = min(budget, (window or DEFAULT_CONTEXT_WINDOW) - max_output - PROMPT_RESERVE_TOKENS)
    return max(budget, 0)


@dataclass
class FileContext:
    texts: dict[str, str] = field(default_factory=dict)  # path -> content, in the order picked
    dropped: dict[str, str] = field(default_factory=dict)  # path -> why it is not shown

    def render(self) -> str:
        if not self.texts:
            return "(no files were selected; create or edit files as the request needs)"
        parts = []
        for path, text in self.texts.items():
            fence = "````" if "```" in text else "```"
            parts.append(f"### {path}\n{fence}\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}{fence}")
        return "\n\n".join(parts)

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(t) for t in self.texts.values())


def gather_files(ws: GitWorkspace, picked: list[str], budget_tokens: int) -> FileContext:
    ctx = FileContext()
    candidates: list[str] = []
    for raw in picked:
        try:  # the same path rules as for patches: inside the repo, not .git, no links leading out
            rel = check_path(strip_git_prefix(raw.strip().strip("`'\""), ws.root), ws.root)
        except PathRefused as err:
            ctx.dropped[raw] = err.why
            continue
        if (ws.root / rel).is_file():
            candidates.append(rel)
        else:
            ctx.dropped[raw] = "does not exist"
    allowed, refused = ws.shareable(candidates)
    ctx.dropped.update(refused)
    used = 0
    for rel in allowed:
        data = (ws.root / rel).read_bytes()
        if b"\0" in data[:8192]:
            ctx.dropped[rel] = "binary"
            continue
        try:  # text in another encoding would reach the model (and come back in a patch) as garbage
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            ctx.dropped[rel] = "not UTF-8 text"
            continue
        cost = estimate_tokens(text)
        if used + cost > budget_tokens:
            ctx.dropped[rel] = f"over the context budget ({cost} tokens, {budget_tokens - used} left)"
            continue
        ctx.texts[rel] = text
        used += cost
    return ctx
