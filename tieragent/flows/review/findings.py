"""A reviewer's reply as findings: read leniently, placed on a changed line, duplicates merged.

A finding must point at a line on the new side of the diff. One that names a line near a hunk of
its call, or inside the code its reviewer was shown (or none), is moved to the nearest changed line
of that hunk, keeping the line it named; one about another file or a line outside all of that is
dropped. Both are counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from ...core.vocab import Tier
from ..replies import ReplyFormatError, json_objects, norm
from .model import Finding, Hunk, Severity

MOVE_WITHIN_LINES = 10  # a line this close to the hunk is about the hunk
SAME_MESSAGE = 85  # rapidfuzz ratio at which two messages on one line say the same thing

_SEVERITY_WORDS = {
    "critical": Severity.HIGH,
    "blocker": Severity.HIGH,
    "error": Severity.HIGH,
    "major": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "minor": Severity.LOW,
    "nit": Severity.INFO,
    "note": Severity.INFO,
    "suggestion": Severity.INFO,
}


@dataclass(frozen=True)
class Placed:
    findings: list[Finding]
    moved: int
    dropped: int


def parse_findings(text: str) -> list[dict]:
    """The finding objects of a reply; [] for an explicit "no findings". Raises ReplyFormatError when
    the reply holds neither."""
    objects = json_objects(text)
    found: list[dict] = []
    answered = False
    for obj in objects:
        if isinstance(obj.get("findings"), list):
            answered = True
            found += [f for f in obj["findings"] if isinstance(f, dict)]
        elif "message" in obj:
            answered = True
            found.append(obj)
    if not answered:
        raise ReplyFormatError('no {"findings": [...]} object in the reply')
    return found


def _severity(value: object) -> Severity:
    word = norm(value)
    try:
        return Severity(word)
    except ValueError:
        return _SEVERITY_WORDS.get(word, Severity.MEDIUM)


def _category(value: object) -> str:
    """The finding's category as a slug; "bug" when the reply has none, or copied the answer
    format's placeholder or its list of choices ("security|bug|...") instead of choosing."""
    word = norm(value or "bug").replace("_", "-")
    if not re.fullmatch(r"[a-z][a-z-]{1,30}", word) or word == "category":
        return "bug"
    return word


def _line(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    m = re.search(r"\d+", str(value or ""))
    return int(m.group()) if m else None


def place(
    raw: list[dict], hunks: Hunk | list[Hunk], tier: Tier, shown: dict[str, tuple[int, int]] | None = None
) -> Placed:
    """Findings about `hunks` (one hunk, or several of one file reviewed in one call), each on a
    changed new-side line of the hunk it is about: the hunk holding its line, else the nearest one
    within MOVE_WITHIN_LINES or whose code shown to the reviewer holds the line (`shown`: hunk id ->
    first and last line), keeping the line it named in `moved_from`. A finding without a line goes
    to the first hunk."""
    group = [hunks] if isinstance(hunks, Hunk) else list(hunks)
    shown = shown or {}
    path_of = group[0].path
    out, moved, dropped = [], 0, 0
    for f in raw:
        message = " ".join(str(f.get("message", "")).split())
        if not message:
            dropped += 1
            continue
        path = str(f.get("path") or path_of).strip().removeprefix("./") or path_of
        if path != path_of and not path_of.endswith("/" + path):
            dropped += 1  # about another file: not something this call's reviewer can place
            continue
        line, moved_from = _line(f.get("line")), None
        hunk = next((h for h in group if line in h.changed_new_lines), None)
        if hunk is None:
            landed = _moved(line, group, shown)
            if landed is None:
                dropped += 1
                continue
            (hunk, line), moved_from = landed, line
            moved += 1
        out.append(
            Finding(
                path=hunk.path,
                line=line,
                severity=_severity(f.get("severity")),
                category=_category(f.get("category")),
                message=message[:1000],
                suggestion=" ".join(str(f.get("suggestion") or "").split())[:1000],
                hunk=hunk.id,
                tier=tier,
                moved_from=moved_from,
            )
        )
    return Placed(out, moved, dropped)


def _moved(line: int | None, group: list[Hunk], shown: dict[str, tuple[int, int]]) -> tuple[Hunk, int] | None:
    """Where a finding that is on no changed line goes: the nearest hunk within reach (or whose shown
    code holds the line) and its changed line closest to `line`; the first hunk for a finding without a
    line; None when no hunk is near."""
    if line is None:
        return group[0], group[0].changed_new_lines[0]
    at = line
    near = [
        h
        for h in group
        if _distance(h, at) <= MOVE_WITHIN_LINES or shown.get(h.id, (0, -1))[0] <= at <= shown.get(h.id, (0, -1))[1]
    ]
    if not near:
        return None
    hunk = min(near, key=lambda h: _distance(h, at))
    return hunk, min(hunk.changed_new_lines, key=lambda n: (abs(n - at), n))


def _distance(hunk: Hunk, line: int) -> int:
    """Lines from `line` to the hunk's new-side span (0 inside it)."""
    first, last = hunk.new_start, hunk.new_start + max(hunk.new_len, 1) - 1
    return max(first - line, line - last, 0)


def merge_duplicates(findings: list[Finding]) -> tuple[list[Finding], int]:
    """One finding per (path, line, category, message said alike); the higher severity is kept."""
    kept: list[Finding] = []
    merged = 0
    for f in findings:
        for i, k in enumerate(kept):
            if (k.path, k.line, k.category) == (f.path, f.line, f.category) and fuzz.ratio(
                k.message.lower(), f.message.lower()
            ) >= SAME_MESSAGE:
                if f.severity.rank > k.severity.rank:
                    kept[i] = replace(k, severity=f.severity)
                merged += 1
                break
        else:
            kept.append(f)
    return kept, merged
