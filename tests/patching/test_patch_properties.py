"""Property tests: random edits to a random file, a diff made by difflib, damaged the way models
damage diffs, must still apply to exactly the intended result.

The files are not Python (random indentation would not parse), so only the applier is judged."""

from __future__ import annotations

import difflib
import os
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tieragent.repo.patching import PatchError, plan_patch

# Deterministic and quick by default; TIERAGENT_PROPERTY_EXAMPLES=2000 runs a long random search.
_LONG = int(os.environ.get("TIERAGENT_PROPERTY_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_LONG or 60,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = ["alpha", "beta", "gamma", "delta", "total", "count", "name", "value", "result", "items"]
INDENTS = ["", "    ", "        "]


# A line is drawn as one number (a blank line before it one time in 8, its indent, word and value): a
# quarter of the draws of drawing each part, which is most of these tests' time; it still shrinks to 0.
_BLANK, _VALUES = 8, 100
LINE_CODES = _BLANK * len(INDENTS) * len(WORDS) * _VALUES


def line_of(code: int, i: int) -> tuple[bool, str]:
    """(a blank line before it, the line) for line `i` drawn as `code`."""
    code, blank = divmod(code, _BLANK)
    code, indent = divmod(code, len(INDENTS))
    value, word = divmod(code, len(WORDS))
    return blank == _BLANK - 1, f"{INDENTS[indent]}{WORDS[word]}_{i} = {value}"


@st.composite
def files_and_edits(draw):
    """(old lines, new lines): unique non-blank lines, blank lines never two in a row."""
    n = draw(st.integers(6, 40))
    old: list[str] = []
    for i in range(n):
        blank_before, line = line_of(draw(st.integers(0, LINE_CODES - 1)), i)
        if old and old[-1] and blank_before:
            old.append("")
        old.append(line)
    positions = draw(st.lists(st.integers(0, len(old) - 1), min_size=1, max_size=4, unique=True))
    new = list(old)
    for j, pos in enumerate(sorted(positions, reverse=True)):
        op = draw(st.sampled_from(["replace", "delete", "insert", "insert2"]))
        indent = draw(st.sampled_from(INDENTS))
        if op == "replace":
            new[pos] = f"{indent}changed_{pos}_{j} = {j}"
        elif op == "delete":
            del new[pos]
        elif op == "insert":
            new.insert(pos, f"{indent}inserted_{pos}_{j} = {j}")
        else:
            new[pos:pos] = [f"{indent}inserted_{pos}_{j}_a = 1", f"{indent}inserted_{pos}_{j}_b = 2"]
    if new == old:
        new.append("appended_line = 1")
    return old, new


def make_hunks(old: list[str], new: list[str]) -> list[list[str]]:
    """difflib's hunks, each as [header, body lines...]."""
    lines = list(difflib.unified_diff(old, new, "a/mod.cfg", "b/mod.cfg", n=3, lineterm=""))[2:]
    hunks: list[list[str]] = []
    for line in lines:
        if line.startswith("@@"):
            hunks.append([line])
        else:
            hunks[-1].append(line)
    return hunks


def render(hunks: list[list[str]], path: str = "mod.cfg", style: str = "fenced") -> str:
    body = "\n".join(line for h in hunks for line in h)
    diff = f"--- a/{path}\n+++ b/{path}\n{body}\n"
    if style == "unfenced":
        return f"Here is the change.\n\n{diff}\nThat is all.\n"
    if style == "list":
        inner = "".join("   " + line + "\n" for line in f"```diff\n{diff}```".split("\n"))
        return f"1. Apply this:\n\n{inner}\n2. Run the tests.\n"
    if style == "crlf":
        return f"Here is the change.\r\n\r\n```patch\r\n{diff}```\r\n".replace("\n", "\r\n").replace("\r\r", "\r")
    return f"Here is the change.\n\n```diff\n{diff}```\n"


def write(tmp_path, lines: list[str], eol: str = "\n") -> None:
    (tmp_path / "mod.cfg").write_bytes((eol.join(lines) + eol).encode())


def result(tmp_path, reply: str) -> bytes:
    changes = plan_patch(reply, tmp_path)
    assert len(changes) == 1 and changes[0].path == "mod.cfg"
    assert changes[0].new_content is not None
    return changes[0].new_content


def expected(new: list[str], eol: str = "\n") -> bytes:
    return (eol.join(new) + eol).encode() if new else b""


def drop_numbers(h: list[str]) -> list[str]:
    return ["@@ @@", *h[1:]]


def wrong_counts(h: list[str], rnd: random.Random) -> list[str]:
    m = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@", h[0])
    assert m
    return [f"@@ -{m.group(1)},{rnd.randint(0, 60)} +{m.group(2)},{rnd.randint(0, 60)} @@", *h[1:]]


def droppable_context(h: list[str]) -> list[int]:
    """Context lines whose removal leaves the intent unambiguous: not next to an added line, not
    between two removed lines, not blank, and leaving at least three old-side lines (two at an edge)."""
    body = h[1:]
    old_side = sum(1 for x in body if not x.startswith("+"))
    out = []
    for k, line in enumerate(body):
        if not line.startswith(" ") or not line.strip():
            continue
        before = body[k - 1] if k > 0 else None
        after = body[k + 1] if k + 1 < len(body) else None
        if (before or " ").startswith("+") or (after or " ").startswith("+"):
            continue
        if (before or " ").startswith("-") and (after or " ").startswith("-"):
            continue
        edge = before is None or after is None
        if old_side - 1 >= (2 if edge else 3):
            out.append(k + 1)
    return out


def shift(h: list[str], prefix: str) -> list[str]:
    return [h[0]] + [x[0] + prefix + x[1:] if x[1:].strip() else x for x in h[1:]]


@SETTINGS
@given(files_and_edits(), st.sampled_from(["fenced", "unfenced", "list", "crlf"]))
def test_clean_difflib_diff_applies(tmp_path_factory, case, style):
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    assert result(tmp_path, render(make_hunks(old, new), style=style)) == expected(new)


@SETTINGS
@given(
    files_and_edits(),
    st.randoms(use_true_random=False),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["fenced", "list", "crlf"]),
)
def test_damaged_diff_still_applies(tmp_path_factory, case, rnd, numbers, counts, context, reverse, style):
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    hunks = make_hunks(old, new)
    if counts:
        hunks = [wrong_counts(h, rnd) for h in hunks]
    if numbers:
        hunks = [drop_numbers(h) for h in hunks]
    if context:
        candidates = [(i, k) for i, h in enumerate(hunks) for k in droppable_context(h)]
        if candidates:
            i, k = rnd.choice(candidates)
            hunks[i] = hunks[i][:k] + hunks[i][k + 1 :]
    if reverse:
        hunks.reverse()
    assert result(tmp_path, render(hunks, style=style)) == expected(new)


@SETTINGS
@given(files_and_edits(), st.sampled_from(["    ", "  ", "\t"]), st.booleans())
def test_uniformly_shifted_diff_applies_with_new_lines_reindented(tmp_path_factory, case, prefix, numbers):
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    hunks = [shift(h, prefix) for h in make_hunks(old, new)]
    if numbers:
        hunks = [drop_numbers(h) for h in hunks]
    assert result(tmp_path, render(hunks)) == expected(new)


@SETTINGS
@given(files_and_edits(), st.randoms(use_true_random=False))
def test_shifted_and_missing_context_line(tmp_path_factory, case, rnd):
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    hunks = [drop_numbers(shift(h, "    ")) for h in make_hunks(old, new)]
    candidates = [(i, k) for i, h in enumerate(hunks) for k in droppable_context(h)]
    if candidates:
        i, k = rnd.choice(candidates)
        hunks[i] = hunks[i][:k] + hunks[i][k + 1 :]
    assert result(tmp_path, render(hunks)) == expected(new)


@SETTINGS
@given(files_and_edits())
def test_crlf_file_stays_crlf(tmp_path_factory, case):
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old, "\r\n")
    assert result(tmp_path, render([drop_numbers(h) for h in make_hunks(old, new)])) == expected(new, "\r\n")


@SETTINGS
@given(files_and_edits(), st.randoms(use_true_random=False))
def test_hunk_with_wrong_removed_line_is_refused_and_nothing_guessed(tmp_path_factory, case, rnd):
    """A removed line that is not in the file is never matched to some other line."""
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    hunks = make_hunks(old, new)
    spots = [
        (i, k)
        for i, h in enumerate(hunks)
        for k, line in enumerate(h)
        if k and line.startswith("-") and line[1:].strip()
    ]
    if not spots:
        return
    i, k = rnd.choice(spots)
    hunks[i][k] = hunks[i][k] + " + 1"
    try:
        plan_patch(render(hunks), tmp_path)
    except PatchError as e:
        assert e.kind == "apply"
        assert f"hunk {i + 1}" in e.reason
    else:
        raise AssertionError("a removed line absent from the file was accepted")


@SETTINGS
@given(files_and_edits(), st.randoms(use_true_random=False), st.sampled_from(["number", "comment", "word"]))
def test_paraphrased_context_line_applies_exactly_or_is_refused(tmp_path_factory, case, rnd, how):
    """A context line the model misremembered: the hunk lands in exactly the right place, or is refused."""
    tmp_path = tmp_path_factory.mktemp("p")
    old, new = case
    write(tmp_path, old)
    hunks = [drop_numbers(h) for h in make_hunks(old, new)]
    spots = [
        (i, k) for i, h in enumerate(hunks) for k, line in enumerate(h) if k and line.startswith(" ") and line.strip()
    ]
    if not spots:
        return
    i, k = rnd.choice(spots)
    line = hunks[i][k]
    if how == "number":
        line = re.sub(r"\d+$", lambda m: str(int(m.group(0)) + 1), line)
    elif how == "comment":
        line = line + "  # note"
    else:
        line = line.replace("_", "__", 1)
    hunks[i][k] = line
    try:
        got = result(tmp_path, render(hunks))
    except PatchError as e:
        assert e.kind == "apply" and f"hunk {i + 1}" in e.reason
    else:
        assert got == expected(new)
