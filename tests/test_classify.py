from __future__ import annotations

import json

import pytest

from tieragent.flows.fix.classify import heuristic_classification, parse_classification
from tieragent.flows.replies import ReplyFormatError


@pytest.mark.parametrize(
    "text",
    [
        '{"task_class": "local", "risk": "low", "files": ["a.py"], "reason": "r"}',
        'Sure! Here it is:\n```json\n{"task_class": "local", "risk": "low", "files": ["a.py"], "reason": "r"}\n'
        "```\nHope it helps.",
        'Thinking... {"note": 1} then {"task_class": "Local", "risk": "LOW", "files": "a.py"}',
        '```\n{"task_class": "local", "risk": "low", "files": ["./a.py", "a.py"], "reason": "r"}\n```',
    ],
)
def test_lenient_parse(text):
    c = parse_classification(text)
    assert c.task_class == "local" and c.risk == "low"
    assert c.files[0].endswith("a.py")


def test_spelling_variants():
    c = parse_classification('{"task_class": "long-horizon", "risk": "High", "files": []}')
    assert (c.task_class, c.risk) == ("long_horizon", "high")


@pytest.mark.parametrize(
    "text,message",
    [
        ("no json at all", "no JSON"),
        ('{"task_class": "huge", "risk": "low"}', "task_class"),
        ('{"task_class": "local", "risk": "extreme"}', "risk"),
        ('{"task_class": "local", "risk": "low", "files": 7}', "files"),
        ("", "no JSON"),
    ],
)
def test_malformed(text, message):
    with pytest.raises(ReplyFormatError, match=message):
        parse_classification(text)


def test_files_capped_at_eight():
    files = [f"f{i}.py" for i in range(20)]
    c = parse_classification(json.dumps({"task_class": "repository", "risk": "low", "files": files}))
    assert len(c.files) == 8


def test_heuristic_prefers_mentioned_files():
    c = heuristic_classification("the parser in src/parse.py crashes", ["src/other.py", "src/parse.py"], "why")
    assert c.files[0] == "src/parse.py" and c.source == "heuristic" and c.task_class == "local"
