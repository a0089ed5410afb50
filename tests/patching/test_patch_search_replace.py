"""Property tests for SEARCH/REPLACE blocks: random edits to a random file, written as blocks (difflib's
groups with two lines of context), damaged the way models damage them, must apply to exactly the
intended result or be refused; a SEARCH line that is not in the file is never matched to another line."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st
from test_patch_properties import SETTINGS, expected, files_and_edits, write

from tieragent.repo.patching import PatchError, plan_search_replace

Block = tuple[list[str], list[str]]  # (SEARCH lines, REPLACE lines)


def make_blocks(old: list[str], new: list[str]) -> list[Block]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    blocks = []
    for group in matcher.get_grouped_opcodes(2):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        blocks.append((old[i1:i2], new[j1:j2]))
    return blocks


def render(blocks: list[Block], style: str = "path-line") -> str:
    out = ["Here is the change.", ""]
    for search, replace in blocks:
        body = ["<<<<<<< SEARCH", *search, "=======", *replace, ">>>>>>> REPLACE"]
        if style == "path-line":
            out += ["mod.cfg", "```", *body, "```", ""]
        elif style == "fence-info":
            out += ["```text mod.cfg", *body, "```", ""]
        elif style == "list":
            out += ["1. In `mod.cfg`:", "", *("   " + line for line in ["```", *body, "```"]), ""]
        else:  # inside the fence, CRLF
            out += ["```", "mod.cfg", *body, "```", ""]
    text = "\n".join(out)
    return text.replace("\n", "\r\n") if style == "crlf" else text


def result(tmp_path, reply: str) -> bytes:
    changes = plan_search_replace(reply, tmp_path)
    assert len(changes) == 1 and changes[0].path == "mod.cfg" and changes[0].new_content is not None
    return changes[0].new_content


def shift(blocks: list[Block], prefix: str) -> list[Block]:
    def sh(lines: list[str]) -> list[str]:
        return [prefix + line if line.strip() else line for line in lines]

    return [(sh(s), sh(r)) for s, r in blocks]


@SETTINGS
@given(files_and_edits(), st.sampled_from(["path-line", "fence-info", "list", "crlf"]), st.booleans())
def test_blocks_apply_in_any_order(tmp_path_factory, case, style, reverse):
    tmp_path = tmp_path_factory.mktemp("s")
    old, new = case
    write(tmp_path, old)
    blocks = make_blocks(old, new)
    if reverse:
        blocks.reverse()
    assert result(tmp_path, render(blocks, style)) == expected(new)


@SETTINGS
@given(files_and_edits(), st.sampled_from(["    ", "  ", "\t"]))
def test_uniformly_shifted_blocks_apply_with_new_lines_reindented(tmp_path_factory, case, prefix):
    tmp_path = tmp_path_factory.mktemp("s")
    old, new = case
    write(tmp_path, old)
    assert result(tmp_path, render(shift(make_blocks(old, new), prefix))) == expected(new)


@SETTINGS
@given(files_and_edits())
def test_a_crlf_file_stays_crlf(tmp_path_factory, case):
    tmp_path = tmp_path_factory.mktemp("s")
    old, new = case
    write(tmp_path, old, "\r\n")
    assert result(tmp_path, render(make_blocks(old, new))) == expected(new, "\r\n")


@SETTINGS
@given(files_and_edits(), st.randoms(use_true_random=False))
def test_a_search_line_that_is_not_in_the_file_is_refused_and_nothing_guessed(tmp_path_factory, case, rnd):
    """A line the block replaces, written wrong, is never taken for some other line of the file."""
    tmp_path = tmp_path_factory.mktemp("s")
    old, new = case
    write(tmp_path, old)
    blocks = make_blocks(old, new)
    spots = [(b, k) for b, (s, r) in enumerate(blocks) for k, line in enumerate(s) if line.strip() and line not in r]
    if not spots:
        return
    b, k = rnd.choice(spots)
    blocks[b][0][k] = blocks[b][0][k] + " + 1"
    try:
        plan_search_replace(render(blocks), tmp_path)
    except PatchError as e:
        assert e.kind == "apply" and f"block {b + 1}" in e.reason and "Send every SEARCH/REPLACE block" in e.feedback
    else:
        raise AssertionError("a SEARCH line absent from the file was accepted")


@SETTINGS
@given(files_and_edits(), st.randoms(use_true_random=False), st.sampled_from(["number", "comment", "word"]))
def test_a_misremembered_unchanged_line_applies_exactly_or_is_refused(tmp_path_factory, case, rnd, how):
    """A line the block keeps, misremembered in both sections: the block lands in exactly the right place
    (the file keeps its own version of that line), or is refused."""
    tmp_path = tmp_path_factory.mktemp("s")
    old, new = case
    write(tmp_path, old)
    blocks = make_blocks(old, new)
    spots = [(b, k) for b, (s, r) in enumerate(blocks) for k, line in enumerate(s) if line.strip() and line in r]
    if not spots:
        return
    b, k = rnd.choice(spots)
    line = blocks[b][0][k]
    wrong = {"number": line + "0", "comment": line + "  # note", "word": line.replace("_", "__", 1)}[how]
    search, replace = blocks[b]
    blocks[b] = ([wrong if x == line else x for x in search], [wrong if x == line else x for x in replace])
    try:
        got = result(tmp_path, render(blocks))
    except PatchError as e:
        assert e.kind == "apply" and f"block {b + 1}" in e.reason
    else:
        assert got == expected(new)
