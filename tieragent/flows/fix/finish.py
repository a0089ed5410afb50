"""The end of a fix run: keep the accepted patch (and commit it when asked), or save the best attempt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...core import prompts
from ...core.errors import TieragentError
from ...core.private_files import private_dir, write_private
from ...core.vocab import SMALL, Outcome, Step
from ...repo.journal import FileJournal
from ..skeleton import KeptEdit
from .attempt import Attempt
from .session import Session

# Which failed attempt's diff is worth saving when nothing validates: the one that got furthest.
_PROGRESS = {
    Outcome.REVIEW_REJECTED: 5,
    Outcome.VERIFY_REJECTED: 5,
    Outcome.LINT_FAILED: 4,
    Outcome.TESTS_FAILED: 3,
    Outcome.TEST_EDIT_REFUSED: 2,
    Outcome.APPLY_FAILED: 1,
    Outcome.FORMAT_ERROR: 0,
}


def best_attempt(attempts: list[Attempt]) -> Attempt | None:
    """The attempt that got furthest, among those with a diff: then the one that broke the fewest tests that
    passed before, then the one that fixed the most; the later one on a tie."""
    scored = [(_score(a), n, a) for n, a in enumerate(attempts) if a.diff.strip() and a.outcome in _PROGRESS]
    return max(scored, key=lambda t: (t[0], t[1]))[2] if scored else None


def _score(a: Attempt) -> tuple[int, int, int]:
    tests = (a.validation.checks.get("tests") or {}) if a.validation is not None else {}
    broken = len(tests.get("new_failures") or []) + len(tests.get("new_tests_failing") or [])
    return _PROGRESS[a.outcome], -broken, len(tests.get("fixed") or [])


def save_best(state_dir: Path, run_id: str, attempts: list[Attempt], mask: Callable[[str], str]) -> Path | None:
    """The best failed attempt's diff under `.git/tieragent/attempts/` (never in the user's tree),
    masked like a prompt (a patch may hold a key it copied from the code) and readable only by the user."""
    best = best_attempt(attempts)
    if best is None:
        return None
    return write_private(private_dir(state_dir / "attempts") / f"{run_id}.diff", mask(best.diff))


def keep_patch(s: Session, request: str, patch: str, repro_path: str | None, dirty_before: set[str]) -> str | None:
    """Leave the accepted patch in the tree (without the repro test unless kept); commit it when
    asked and safe. Returns the commit's sha, or None."""
    if repro_path and not s.opts.keep_repro:
        s.journal.revert(repro_path)
    touched = s.journal.touched()
    sha = None
    if s.opts.commit:
        mixed = [p for p in touched if p in dirty_before]
        if mixed:
            s.events.warn(f"not committed: {', '.join(mixed)} had uncommitted changes of yours")
        else:
            try:
                if s.opts.branch:
                    s.ws.create_branch(s.opts.branch)
                sha = s.ws.commit(touched, commit_message(s, request, patch))
            except TieragentError as err:
                s.events.warn(f"not committed: {err.message}")
    s.journal.close()
    return sha


def commit_message(s: Session, request: str, patch: str) -> str:
    fallback = f"tieragent: {request.strip().splitlines()[0][:60]}"
    call = s.gw.call(Step.COMMIT_MESSAGE, SMALL, prompts.render("commit-message", request=request, diff=patch))
    if call.reply is None:
        return fallback
    text = call.text.strip().strip("`").strip()
    if not text:
        s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, "empty commit message")
    return text or fallback


def kept_edits(journal: FileJournal) -> list[KeptEdit]:
    """Each file the kept patch changed, before and after (the journal's originals and the tree now),
    for chat's /undo; read before the journal's memory of them is gone."""
    edits = []
    for rel in journal.touched():
        path = journal.root / rel
        after = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        edits.append(KeptEdit(rel, journal.original(rel), after, journal.mode(rel)))
    return edits
