from __future__ import annotations

from importlib import resources

import pytest

from tieragent.core.prompts import PromptError, load_prompt, render


def test_every_step_has_a_prompt_file():
    names = {p.name for p in resources.files("tieragent.prompts").iterdir()}
    assert {"classify.md", "patch.md", "summarize.md", "commit-message.md"} <= names


def test_render_is_strict_both_ways():
    with pytest.raises(PromptError, match="needs a value for"):
        render("commit-message", request="x")
    with pytest.raises(PromptError, match="no placeholder for: extra"):
        render("commit-message", request="x", diff="d", extra="e")


def test_values_are_not_rescanned():
    msgs = render("commit-message", request="use {{ diff }} literally {x}", diff="+a")
    user = msgs[-1]["content"]
    assert "use {{ diff }} literally {x}" in user and "+a" in user


def test_sections():
    p = load_prompt("classify")
    assert set(p) == {"system", "user", "feedback"}


def test_feedback_is_a_message_of_its_own_after_the_stable_prefix():
    first = render("patch", request="r", files="F", related="", feedback="")
    second = render("patch", request="r", files="F", related="", feedback="\nA previous attempt failed: x")
    assert [m["role"] for m in first] == ["system", "user"]
    assert [m["role"] for m in second] == ["system", "user", "user"]
    assert second[:2] == first  # byte for byte: what a prompt cache keys on
    assert "A previous attempt failed" in second[2]["content"]
