"""The output formats of `tieragent review`: text for a person, Markdown for a pull-request comment,
GitHub Actions workflow commands, and SARIF 2.1.0 for code scanning (in review_sarif.py).

All but `print_review` are pure functions of a `ReviewResult`. Text from a model or a diff is
never read as rich markup, and is escaped for the format it lands in: a finding must not be able
to break the table, the annotation or the comment it appears in. Hunks that were not reviewed are
shown in every format: they must never look as if they had been reviewed and found clean. Every
format is masked as the JSON is (`masked`): a secret a model echoes into a finding is shown as its
placeholder, whichever format or file it lands in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from rich.console import Console
from rich.text import Text

from ..flows.review.model import Finding, Hunk, ReviewResult, Severity, Unreviewed
from ..model.ledger import Ledger
from .render import money

_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)  # most severe first
_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "dim", Severity.INFO: "dim"}
_GITHUB = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice", Severity.INFO: "notice"}


# ---- shared pieces ---------------------------------------------------------------------------


def masked(result: ReviewResult) -> ReviewResult:
    """A copy with every text a model, the diff or an error put in masked by the run's redactor (the
    same placeholders the JSON shows); paths and hunk ids too, consistently, as they are data from the diff."""
    mask = result.redactor
    if mask is None:
        return result

    def hunk(h: Hunk) -> Hunk:
        return replace(h, id=mask(h.id), path=mask(h.path))

    return replace(
        result,
        source=mask(result.source),
        error=mask(result.error) if result.error else result.error,
        warnings=[mask(w) for w in result.warnings],
        findings=[
            replace(
                f,
                path=mask(f.path) if f.path else f.path,
                category=mask(f.category),
                message=mask(f.message),
                suggestion=mask(f.suggestion),
                hunk=mask(f.hunk) if f.hunk else f.hunk,
            )
            for f in result.findings
        ],
        skipped=[
            replace(s, path=mask(s.path), hunk=mask(s.hunk) if s.hunk else s.hunk, reason=mask(s.reason))
            for s in result.skipped
        ],
        unreviewed=[replace(u, hunk=mask(u.hunk), path=mask(u.path), reason=mask(u.reason)) for u in result.unreviewed],
        assessed=[replace(a, hunk=hunk(a.hunk), reasons=tuple(mask(r) for r in a.reasons)) for a in result.assessed],
        reviewed=[mask(h) for h in result.reviewed],
    )


def severity_of(f: Finding) -> Severity:
    return Severity(f.severity)  # tolerate a plain string where the enum was expected


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def category_of(f: Finding) -> str:
    return f.category.strip() or "uncategorized"


def _location(f: Finding) -> str:
    if not f.path:
        return "(no file)"
    if f.line is None:
        return f.path
    named = f" (about line {f.moved_from})" if f.moved_from is not None and f.moved_from != f.line else ""
    return f"{f.path}:{f.line}{named}"


def full_message(f: Finding) -> str:
    """The message, then the suggestion: for formats with one text field per finding."""
    return f"{f.message}\n\nSuggestion: {f.suggestion}" if f.suggestion.strip() else f.message


def by_location(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path or "\uffff", f.line or 0, -severity_of(f).rank, category_of(f)))


def hunk_start(result: ReviewResult, hunk_id: str) -> int | None:
    """The first new-side line of a hunk, for pointing at an unreviewed hunk (None when unknown)."""
    for a in result.assessed:
        if a.hunk.id == hunk_id and a.hunk.new_start >= 1:
            return a.hunk.new_start
    return None


def summary_line(result: ReviewResult) -> str:
    """One line for the end of the text output and the top of a comment."""
    reviewed = len(result.reviewed)
    if result.hunks == 0 and not result.findings and result.status != "error":
        return "nothing to review"
    if result.status == "error" and not (result.findings or reviewed):
        return "not reviewed"
    if result.findings:
        counts = Counter(severity_of(f) for f in result.findings)
        detail = ", ".join(f"{counts[s]} {s}" for s in _ORDER if counts[s])
        head = f"{_plural(len(result.findings), 'finding')} ({detail})"
    else:
        head = "no findings"
    parts = [f"{head} in {reviewed} reviewed {'hunk' if reviewed == 1 else 'hunks'}"]
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    if result.unreviewed:
        parts.append(f"{len(result.unreviewed)} not reviewed")
    return "; ".join(parts)


def _skipped_line(result: ReviewResult) -> str:
    """'3 hunks skipped: whitespace only (2), lock file (1)'; whole files are counted as files."""
    hunks = sum(s.hunk is not None for s in result.skipped)
    files = len(result.skipped) - hunks
    what = " and ".join(
        p for p in (_plural(hunks, "hunk") if hunks else "", _plural(files, "file") if files else "") if p
    )
    reasons = Counter(s.reason for s in result.skipped)  # most_common keeps first-seen order on ties
    return f"{what} skipped: " + ", ".join(f"{r} ({n})" for r, n in reasons.most_common())


def _adjustments(result: ReviewResult) -> list[str]:
    out = []
    if result.moved_findings:
        out.append(f"{_plural(result.moved_findings, 'finding')} moved onto the nearest changed line")
    if result.dropped_findings:
        out.append(f"{_plural(result.dropped_findings, 'finding')} dropped (outside the diff)")
    if result.merged_findings:
        out.append(f"{_plural(result.merged_findings, 'duplicate finding')} merged")
    return out


def _where(path: str, hunk: str | None) -> str:
    """A hunk id already names its file ("path#n"); a whole file is just its path."""
    if hunk is None:
        return path
    return hunk if hunk.startswith(path + "#") else f"{path} {hunk}"


def _error_label(result: ReviewResult) -> str:
    return {"error": "Error", "incomplete": "Incomplete"}.get(result.status, "Stopped")


def unreviewed_text(u: Unreviewed) -> str:
    return f"{_where(u.path, u.hunk)} ({u.risk} risk) was not reviewed: {u.reason}"


# ---- text (rich) -----------------------------------------------------------------------------


def _indented(text: str, indent: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\n" + indent)


def print_review(result: ReviewResult, console: Console) -> None:
    """The `text` format. Everything from a model or a diff goes in as `Text`, never as markup."""
    result = masked(result)

    def out(*parts: tuple[str, str]) -> None:
        console.print(Text.assemble(*parts), highlight=False)

    if result.source:
        out(("Review of ", "bold"), (result.source, "bold"))
    groups: dict[str, list[Finding]] = {}
    for f in by_location(result.findings):
        groups.setdefault(f.path or "", []).append(f)
    width = max((len(str(severity_of(f))) for f in result.findings), default=0)
    for path, findings in groups.items():
        console.print()
        out((path or "(no file)", "bold underline"))
        for f in findings:
            sev = severity_of(f)
            pad = "  " + " " * width + "  "
            line: list[tuple[str, str]] = [("  ", ""), (str(sev).upper().ljust(width), _STYLE[sev]), ("  ", "")]
            line += [
                (_location(f), "cyan"),
                ("  ", ""),
                (category_of(f), "magenta"),
                ("  ", ""),
                (_indented(f.message, pad), ""),
            ]
            if f.tier:
                line.append((f"  ({f.tier})", "dim"))
            out(*line)
            if f.suggestion.strip():
                out((pad, ""), ("suggestion: ", "green"), (_indented(f.suggestion, pad + "  "), ""))
    if result.findings or result.skipped or result.unreviewed:
        console.print()
    if result.skipped:
        out((_skipped_line(result), "dim"))
    if result.unreviewed:
        out((f"Not reviewed ({len(result.unreviewed)}):", "bold yellow"))
        for u in result.unreviewed:
            out(("  ", ""), (_where(u.path, u.hunk), "cyan"), (f" ({u.risk} risk): {u.reason}", ""))
    adjustments = _adjustments(result)
    if adjustments:
        out(("; ".join(adjustments), "dim"))
    out((summary_line(result), "bold"))
    if result.error:
        label = _error_label(result)
        out((f"{label}: ", "bold red" if result.status == "error" else "bold yellow"), (result.error, ""))
    for w in dict.fromkeys(result.warnings):
        out(("warning", "yellow"), (f": {w}", ""))


def print_review_routing(result: ReviewResult, console: Console) -> None:
    """`review -v`: which tier each hunk went to and why (its risk and the reasons for it), and what was skipped."""
    result = masked(result)
    console.print(Text("Routing", style="bold"))
    for a in result.assessed:
        reasons = "; ".join(a.reasons) or "no rule fired"
        console.print(
            Text.assemble(("  ", ""), (a.hunk.id, "cyan"), (f"  {a.risk} risk → {a.tier}: {reasons}", "")),
            highlight=False,
        )
    for sk in result.skipped:
        console.print(
            Text.assemble(("  ", ""), (_where(sk.path, sk.hunk), "cyan"), (f"  skipped: {sk.reason}", "dim")),
            highlight=False,
        )
    console.print()


# ---- Markdown --------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)


def _md_plain(s: str) -> str:
    # `<` would let a model's text open an HTML comment or tag and hide the rest of the comment.
    s = s.replace("<", "&lt;").replace("|", "\\|")
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_cell(s: str) -> str:
    """Text for one table cell: pipes escaped, newlines as <br>, code spans kept as code."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(s):
        out.append(_md_plain(s[pos : m.start()]))
        out.append(re.sub(r"\r\n|\r|\n", " ", m.group(0)).replace("|", "\\|"))
        pos = m.end()
    out.append(_md_plain(s[pos:]))
    return "".join(out)


def _md_code(s: str) -> str:
    """A code span that holds any text: a fence longer than the longest run of backticks in it."""
    s = re.sub(r"\r\n|\r|\n", " ", s)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")


def _md_cost(ledger: Ledger) -> list[str]:
    """Calls and cost per tier; an unknown price is `?`, never $0."""
    lines = ["| tier | calls | cost |", "| --- | ---: | ---: |"]
    for tier, t in ledger.by_tier().items():
        if not t.calls:
            continue
        cost = "?" if t.unpriced_calls == t.calls else money(t.cost_usd) + (" + ?" if t.unpriced_calls else "")
        lines.append(f"| {tier} | {t.calls} | {cost} |")
    priced = [r for r in ledger.rows if r.cost_usd is not None]
    unpriced = len(priced) < len(ledger.rows)
    total = "?" if unpriced and not priced else money(ledger.spent_usd) + (" + ?" if unpriced else "")
    lines.append(f"| **total** | {ledger.calls} | **{total}** |")
    lines += [
        "",
        f"Frontier-only estimate: {money(ledger.frontier_only_estimate())} (the same tokens at frontier prices)",
    ]
    return lines


def to_markdown(result: ReviewResult) -> str:
    """A pull-request comment: summary, findings table, what was skipped or not reviewed, cost."""
    result = masked(result)
    lines = ["## tieragent review", ""]
    if result.source:
        lines += [f"Reviewed: {_md_cell(result.source)}", ""]
    lines += [f"**{summary_line(result)}**", ""]
    if result.error:
        lines += [f"**{_error_label(result)}**: {_md_cell(result.error)}", ""]
    if result.findings:
        lines += ["| severity | location | category | finding |", "| --- | --- | --- | --- |"]
        ordered = sorted(by_location(result.findings), key=lambda f: -severity_of(f).rank)
        for f in ordered:
            finding = _md_cell(f.message)
            if f.suggestion.strip():
                finding += "<br>**Suggestion:** " + _md_cell(f.suggestion)
            sev = str(severity_of(f))
            lines.append(
                f"| {'**high**' if sev == 'high' else sev} | {_md_code(_location(f))} | {_md_cell(category_of(f))} | "
                f"{finding} |"
            )
        lines.append("")
    adjustments = _adjustments(result)
    if adjustments:
        lines += [_md_cell("; ".join(adjustments)) + ".", ""]
    if result.unreviewed:
        lines += ["### Not reviewed", ""]
        lines += [
            f"- {_md_code(_where(u.path, u.hunk))} ({u.risk} risk): {_md_cell(u.reason)}" for u in result.unreviewed
        ]
        lines.append("")
    if result.skipped:
        lines += ["<details><summary>" + _md_cell(_skipped_line(result)) + "</summary>", ""]
        for s in result.skipped:
            where = _md_code(_where(s.path, s.hunk)) + ("" if s.hunk else " (whole file)")
            lines.append(f"- {where}: {_md_cell(s.reason)}")
        lines += ["", "</details>", ""]
    if result.warnings:
        lines += [f"> warning: {_md_cell(w)}" for w in dict.fromkeys(result.warnings)] + [""]
    if result.ledger and result.ledger.rows:
        lines += ["<details><summary>Cost</summary>", "", *_md_cost(result.ledger), "", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# ---- GitHub Actions workflow commands --------------------------------------------------------


def _gh_data(s: str) -> str:
    """As @actions/core escapes a command's message."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(s: str) -> str:
    """As @actions/core escapes a property value: the message's escapes, plus `:` and `,`."""
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def _gh_command(kind: str, message: str, *, file: str | None, line: int | None, title: str) -> str:
    props = []
    if file:
        props.append(f"file={_gh_property(file)}")
    if file and line is not None and line >= 1:
        props.append(f"line={line}")
    props.append(f"title={_gh_property(title)}")
    return f"::{kind} {','.join(props)}::{_gh_data(message)}"


def to_github(result: ReviewResult) -> str:
    """One workflow command per finding (and per unreviewed hunk), for annotations on the diff."""
    result = masked(result)
    lines = [
        _gh_command(
            _GITHUB[severity_of(f)],
            full_message(f),
            file=f.path or None,
            line=f.line,
            title=f"tieragent: {category_of(f)} ({severity_of(f)})",
        )
        for f in by_location(result.findings)
    ]
    for u in result.unreviewed:
        lines.append(
            _gh_command(
                "warning",
                unreviewed_text(u),
                file=u.path or None,
                line=hunk_start(result, u.hunk),
                title="tieragent: not reviewed",
            )
        )
    if result.error:
        kind = "error" if result.status == "error" else "warning"
        lines.append(_gh_command(kind, result.error, file=None, line=None, title=f"tieragent review: {result.status}"))
    return "".join(line + "\n" for line in lines)
