"""The output formats of `tieragent review`, checked on hand-built results: the text a person reads,
the Markdown of a PR comment, GitHub workflow commands (escaped as @actions/core escapes them), and
SARIF 2.1.0 (checked against what the spec requires of what we emit, by our own small checker)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from tieragent.cli.review_formats import print_review, summary_line, to_github, to_markdown
from tieragent.cli.review_sarif import FINGERPRINT_KEY, to_sarif
from tieragent.core.config import Price
from tieragent.flows.review.model import (
    Assessed,
    Finding,
    Hunk,
    ReviewResult,
    Severity,
    Skipped,
    Unreviewed,
    UnreviewedCause,
)
from tieragent.model.ledger import Ledger
from tieragent.model.protocol import ModelReply, Usage

PRICES = {
    "small": Price(input_per_mtok=1, output_per_mtok=2),
    "mid": None,  # unknown: must show as ?, never $0
    "frontier": Price(input_per_mtok=10, output_per_mtok=20),
}
MODELS = {"small": "s", "mid": "m", "frontier": "f"}


def reply(i: int, o: int) -> ModelReply:
    return ModelReply("x", Usage(i, 0, o), "model", 0.5)


def hunk(hid: str, path: str, start: int) -> Hunk:
    return Hunk(
        id=hid,
        path=path,
        old_path=path,
        status="modified",
        header=f"@@ -{start},3 +{start},3 @@",
        text="",
        new_start=start,
        new_len=3,
        old_start=start,
        old_len=3,
    )


def ledger(prices: dict = PRICES) -> Ledger:
    led = Ledger(prices, MODELS)
    led.record("classify", "small", reply(1000, 100), "ok")
    led.record("review", "mid", reply(2000, 300), "ok")
    led.record("review", "frontier", reply(3000, 500), "ok")
    return led


def make_result(**over: Any) -> ReviewResult:
    hunks = [
        hunk("src/app.py#1", "src/app.py", 10),
        hunk("src/app.py#2", "src/app.py", 40),
        hunk("lib/util.py#1", "lib/util.py", 5),
        hunk("src/big.py#1", "src/big.py", 100),
    ]
    r = ReviewResult(
        run_id="r1",
        source="main...HEAD",
        status="findings",
        files=4,
        hunks=7,
        skipped=[
            Skipped("a.py", "a.py#1", "whitespace only"),
            Skipped("b.py", "b.py#2", "whitespace only"),
            Skipped("poetry.lock", "poetry.lock#1", "lock file"),
        ],
        assessed=[Assessed(h, "high" if "big" in h.id else "medium", ("rule",), "mid") for h in hunks],
        reviewed=["src/app.py#1", "src/app.py#2", "lib/util.py#1"],
        unreviewed=[
            Unreviewed(
                "src/big.py#1", "src/big.py", "high", "too large for the tier's context", UnreviewedCause.TOO_LARGE
            )
        ],
        findings=[
            Finding(
                "src/app.py",
                41,
                Severity.MEDIUM,
                "bug",
                "off by one in the loop",
                "use range(n)",
                "src/app.py#2",
                "mid",
            ),
            Finding(
                "src/app.py",
                12,
                Severity.HIGH,
                "security",
                "SQL built from user input",
                "use query parameters",
                "src/app.py#1",
                "frontier",
            ),
            Finding("lib/util.py", 6, Severity.LOW, "style", "name is unclear", "", "lib/util.py#1", "small"),
        ],
        moved_findings=1,
        dropped_findings=2,
        merged_findings=0,
        ledger=ledger(),
    )
    for k, v in over.items():
        setattr(r, k, v)
    return r


def text_of(result: ReviewResult) -> str:
    buf = io.StringIO()
    print_review(result, Console(file=buf, width=200, color_system=None))
    return buf.getvalue()


# ---- text ------------------------------------------------------------------------------------


def test_text_groups_by_file_sorted_by_line_with_suggestions():
    out = text_of(make_result())
    lines = out.splitlines()
    app = lines.index("src/app.py")
    util = lines.index("lib/util.py")
    assert util < app  # files in path order
    high = next(i for i, ln in enumerate(lines) if "src/app.py:12" in ln)
    medium = next(i for i, ln in enumerate(lines) if "src/app.py:41" in ln)
    assert app < high < medium
    assert re.search(r"HIGH\s+src/app\.py:12\s+security\s+SQL built from user input", lines[high])
    assert re.match(r"\s{4,}suggestion: use query parameters$", lines[high + 1])
    assert "suggestion" not in lines[util + 2]  # the low finding has none
    assert "3 hunks skipped: whitespace only (2), lock file (1)" in out
    assert "Not reviewed (1):" in out
    assert "  src/big.py#1 (high risk): too large for the tier's context" in out
    assert "1 finding moved onto the nearest changed line; 2 findings dropped (outside the diff)" in out
    assert "merged" not in out
    assert lines[-1] == "3 findings (1 high, 1 medium, 1 low) in 3 reviewed hunks; 3 skipped; 1 not reviewed"


def test_text_colours_severities():
    buf = io.StringIO()
    print_review(make_result(), Console(file=buf, width=200, color_system="standard", force_terminal=True))
    out = buf.getvalue()
    assert re.search(r"\x1b\[[0-9;]*31m\s*HIGH", out)  # red
    assert re.search(r"\x1b\[[0-9;]*33m\s*MEDIUM", out)  # yellow
    assert re.search(r"\x1b\[[0-9;]*2m\s*LOW", out)  # dim


@pytest.mark.parametrize("text", ["[red]x[/red]", "[/]", "[bold", "close [/bold] tag", ":smile: [link=x]y[/link]"])
def test_text_prints_markup_literally(text):
    f = Finding("src/[x].py", 3, Severity.HIGH, "[b]cat", text, suggestion=text)
    out = text_of(
        make_result(
            findings=[f],
            unreviewed=[Unreviewed("h#1", "p.py", "high", text, UnreviewedCause.UNUSABLE)],
            warnings=[text],
        )
    )
    assert out.count(text) == 4  # message, suggestion, unreviewed reason, warning
    assert "src/[x].py:3" in out and "[b]cat" in out


def test_text_nothing_to_review():
    r = ReviewResult(run_id="r", source="")
    assert text_of(r).strip() == "nothing to review"


def test_text_shows_the_error():
    r = make_result(status="error", error="git diff failed [exit 128]", findings=[])
    out = text_of(r)
    assert "Error: git diff failed [exit 128]" in out
    assert "no findings in 3 reviewed hunks" in out


def test_summary_without_findings_or_extras():
    r = make_result(findings=[], skipped=[], unreviewed=[], reviewed=["x#1"])
    assert summary_line(r) == "no findings in 1 reviewed hunk"


# ---- Markdown --------------------------------------------------------------------------------


def _table(md: str, header: str) -> list[str]:
    lines = md.splitlines()
    start = lines.index(header)
    rows = []
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        rows.append(ln)
    return rows


def _cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes, as GFM does."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_markdown_table_one_row_per_finding():
    r = make_result()
    md = to_markdown(r)
    assert md.startswith("## tieragent review\n")
    assert summary_line(r) in md
    rows = _table(md, "| severity | location | category | finding |")
    assert rows[1] == "| --- | --- | --- | --- |"
    body = rows[2:]
    assert len(body) == len(r.findings)
    assert all(len(_cells(row)) == 4 for row in body)
    assert _cells(body[0])[:3] == ["**high**", "`src/app.py:12`", "security"]  # most severe first
    assert "SQL built from user input<br>**Suggestion:** use query parameters" in _cells(body[0])[3]
    assert "### Not reviewed" in md and "too large for the tier's context" in md
    assert "<details><summary>3 hunks skipped: whitespace only (2), lock file (1)</summary>" in md


def test_markdown_escapes_pipes_newlines_and_html():
    f = Finding("a|b.py", 3, Severity.MEDIUM, "x|y", "use a | b\nor `c | d`\r\nthen <!-- hidden", suggestion="one\ntwo")
    md = to_markdown(make_result(findings=[f]))
    rows = _table(md, "| severity | location | category | finding |")
    assert len(rows) == 3
    cells = _cells(rows[2])
    assert len(cells) == 4
    assert cells[1] == "`a\\|b.py:3`" and cells[2] == "x\\|y"
    assert cells[3] == "use a \\| b<br>or `c \\| d`<br>then &lt;!-- hidden<br>**Suggestion:** one<br>two"
    assert "\r" not in md


def test_markdown_cost_table_unknown_price_is_a_question_mark():
    md = to_markdown(make_result())
    rows = _table(md, "| tier | calls | cost |")
    assert rows[1] == "| --- | ---: | ---: |"
    assert rows[2] == "| small | 1 | $0.0012 |"
    assert rows[3] == "| mid | 1 | ? |"  # unknown price: ?, never $0
    assert rows[4] == "| frontier | 1 | $0.0400 |"
    assert rows[5] == "| **total** | 3 | **$0.0412 + ?** |"
    assert "Frontier-only estimate: $0.0780" in md  # (6000*10 + 900*20) / 1e6
    no_frontier_price = make_result(ledger=ledger({**PRICES, "frontier": None}))
    assert "Frontier-only estimate: ?" in to_markdown(no_frontier_price)
    assert "$0 " not in md and "$0 |" not in md


def test_markdown_nothing_to_review():
    md = to_markdown(ReviewResult(run_id="r", source=""))
    assert "nothing to review" in md and "| severity" not in md and "Cost" not in md


# ---- GitHub workflow commands ----------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice)(?: ((?:[a-z]+=[^,:\n]*)(?:,[a-z]+=[^,:\n]*)*))?::([^\r\n]*)$")


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(",")) if m.group(2) else {}
    return m.group(1), props, m.group(3)


def test_github_one_line_per_finding_and_unreviewed_hunk():
    out = to_github(make_result())
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == 4
    parsed = [_parse(ln) for ln in lines]
    kinds = {p[1].get("line"): p[0] for p in parsed}
    assert kinds == {"6": "notice", "12": "error", "41": "warning", "100": "warning"}
    kind, props, msg = parsed[1]
    assert props == {"file": "src/app.py", "line": "12", "title": "tieragent%3A security (high)"}
    assert msg == "SQL built from user input%0A%0ASuggestion: use query parameters"
    kind, props, msg = parsed[3]  # the unreviewed hunk, at its first line
    assert kind == "warning" and props["file"] == "src/big.py" and props["title"] == "tieragent%3A not reviewed"
    assert msg == "src/big.py#1 (high risk) was not reviewed: too large for the tier's context"


def test_github_escaping_and_missing_location():
    f = Finding("dir,a:b%.py", None, Severity.INFO, "perf", "100% slower:\r\nsee a,b", suggestion="")
    g = Finding("", 7, Severity.HIGH, "tests", "tests fail")
    lines = to_github(make_result(findings=[f, g], unreviewed=[])).splitlines()
    kind, props, msg = _parse(lines[0])
    assert kind == "notice" and "line" not in props
    assert props["file"] == "dir%2Ca%3Ab%25.py"
    assert msg == "100%25 slower:%0D%0Asee a,b"  # the message keeps `:` and `,`
    kind, props, msg = _parse(lines[1])
    assert kind == "error" and "file" not in props and "line" not in props and msg == "tests fail"


def test_github_error_status():
    lines = to_github(make_result(findings=[], unreviewed=[], status="error", error="boom")).splitlines()
    assert [_parse(ln)[0] for ln in lines] == ["error"]
    assert to_github(ReviewResult(run_id="r", source="")) == ""


# ---- SARIF -----------------------------------------------------------------------------------

LEVELS = {"none", "note", "warning", "error"}


def check_sarif(log: dict[str, Any]) -> None:
    """What SARIF 2.1.0 requires of the parts we emit (our own reading of the spec, not its schema)."""
    assert json.loads(json.dumps(log)) == log  # serialisable, nothing lost
    assert log["version"] == "2.1.0"
    assert isinstance(log["$schema"], str) and log["$schema"].startswith("https://")
    assert isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        ids = [r["id"] for r in rules]
        assert len(set(ids)) == len(ids)
        for rule in rules:
            assert isinstance(rule["id"], str) and rule["id"]
            assert isinstance(rule["shortDescription"]["text"], str)
            assert rule["defaultConfiguration"]["level"] in LEVELS
        for inv in run.get("invocations", []):
            assert isinstance(inv["executionSuccessful"], bool)
            for note in inv.get("toolExecutionNotifications", []):
                assert isinstance(note["message"]["text"], str) and note.get("level", "warning") in LEVELS
                for loc in note.get("locations", []):
                    check_location(loc)
        for res in run["results"]:
            assert isinstance(res["message"]["text"], str) and res["message"]["text"]
            assert res.get("level", "warning") in LEVELS
            if "ruleIndex" in res:
                assert isinstance(res["ruleIndex"], int) and 0 <= res["ruleIndex"] < len(rules)
                assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
            for loc in res.get("locations", []):
                check_location(loc)
            for k, v in res.get("partialFingerprints", {}).items():
                assert isinstance(k, str) and isinstance(v, str)


def check_location(loc: dict[str, Any]) -> None:
    phys = loc["physicalLocation"]
    uri = phys["artifactLocation"]["uri"]
    assert isinstance(uri, str) and "\\" not in uri and not re.search(r"[\s]", uri) and not uri.startswith("/")
    if "region" in phys:
        line = phys["region"]["startLine"]
        assert isinstance(line, int) and not isinstance(line, bool) and line >= 1


def test_sarif_structure():
    r = make_result()
    log = to_sarif(r, "0.1.0")
    check_sarif(log)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    run = log["runs"][0]
    assert run["tool"]["driver"]["version"] == "0.1.0"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["bug", "security", "style"]
    by_rule = {res["ruleId"]: res for res in run["results"]}
    assert len(run["results"]) == 3
    sec = by_rule["security"]
    assert sec["level"] == "error" and by_rule["bug"]["level"] == "warning" and by_rule["style"]["level"] == "note"
    assert sec["message"]["text"] == "SQL built from user input\n\nSuggestion: use query parameters"
    assert sec["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app.py"
    assert sec["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}
    assert sec["properties"]["severity"] == "high" and sec["properties"]["tier"] == "frontier"
    assert re.fullmatch(r"[0-9a-f]{32}", sec["partialFingerprints"][FINGERPRINT_KEY])
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is True
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "warning" and "too large for the tier's context" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 100}
    assert run["properties"]["unreviewed"][0]["hunk"] == "src/big.py#1"


def test_sarif_omits_region_and_locations_and_fails_on_error():
    f = Finding("src\\win dows.py", None, Severity.INFO, "docs", "a note")
    g = Finding("", None, Severity.HIGH, "tests", "the tests fail")
    log = to_sarif(make_result(findings=[f, g], unreviewed=[], status="error", error="crashed"), "1.2.3")
    check_sarif(log)
    run = log["runs"][0]
    res = {r["ruleId"]: r for r in run["results"]}
    assert res["docs"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/win%20dows.py", "uriBaseId": "%SRCROOT%"}
    }
    assert "locations" not in res["tests"]
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert inv["toolExecutionNotifications"][-1]["level"] == "error"


def test_sarif_empty_result():
    log = to_sarif(ReviewResult(run_id="r", source=""), "0.1.0")
    check_sarif(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def _fp(f: Finding) -> str:
    [res] = to_sarif(make_result(findings=[f]), "0")["runs"][0]["results"]
    return res["partialFingerprints"][FINGERPRINT_KEY]


def test_fingerprint_stable_when_the_line_moves_and_differs_when_the_message_does():
    f = Finding("src/app.py", 12, Severity.HIGH, "security", "SQL built from user input on line 12")
    assert _fp(f) == _fp(replace(f, line=30, message="SQL  built from User input on line 30"))
    assert _fp(f) == _fp(replace(f, suggestion="something else", tier="mid"))
    assert _fp(f) != _fp(replace(f, message="password logged in clear"))
    assert _fp(f) != _fp(replace(f, path="src/other.py"))
    assert _fp(f) != _fp(replace(f, category="bug"))


def test_same_finding_twice_in_a_file_gets_two_fingerprints():
    f = Finding("a.py", 3, Severity.LOW, "style", "long line")
    results = to_sarif(make_result(findings=[f, replace(f, line=9)]), "0")["runs"][0]["results"]
    fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert fps[1] == fps[0] + ":2"
