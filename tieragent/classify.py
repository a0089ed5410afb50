"""Reading the small model's classification leniently, and a heuristic for when it fails.

Models wrap JSON in fences, put prose around it, or use near-miss spellings
("long-horizon", "High"). Those are accepted; anything that does not say a class and a risk is
a format error, and after two of those the heuristic decides so the run goes on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .routing import Classification

TASK_CLASSES = ("mechanical", "local", "repository", "long_horizon")
RISKS = ("low", "medium", "high")
MAX_FILES = 8

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n(.*?)```", re.DOTALL)


class ClassificationFormatError(ValueError):
    pass


def _json_objects(text: str) -> list[Any]:
    """JSON objects found in fences first, then anywhere in the text."""
    found: list[Any] = []
    decoder = json.JSONDecoder()
    for chunk in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        i = chunk.find("{")
        while i != -1:
            try:
                obj, end = decoder.raw_decode(chunk, i)
            except ValueError:
                i = chunk.find("{", i + 1)
                continue
            if isinstance(obj, dict):
                found.append(obj)
            i = chunk.find("{", end)
    return found


def _norm(value: Any) -> str:
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())


def parse_classification(text: str) -> Classification:
    objects = _json_objects(text or "")
    if not objects:
        raise ClassificationFormatError("no JSON object found in the reply")
    problems = []
    for obj in objects:
        task_class, risk = _norm(obj.get("task_class", "")), _norm(obj.get("risk", ""))
        if task_class not in TASK_CLASSES:
            problems.append(f"task_class must be one of {', '.join(TASK_CLASSES)} (got {obj.get('task_class')!r})")
            continue
        if risk not in RISKS:
            problems.append(f"risk must be one of {', '.join(RISKS)} (got {obj.get('risk')!r})")
            continue
        files = obj.get("files", [])
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list):
            problems.append("files must be a list of paths")
            continue
        paths = [str(f).strip().strip("`'\"") for f in files if isinstance(f, (str, int)) and str(f).strip()]
        return Classification(task_class, risk, tuple(dict.fromkeys(paths))[:MAX_FILES], str(obj.get("reason", ""))[:500])
    raise ClassificationFormatError(problems[0])


_PATHLIKE = re.compile(r"[\w./-]+\.\w+")


def heuristic_classification(request: str, ranked_files: list[str], why: str) -> Classification:
    """Files named in the request, then the best-ranked files; class from how many there are."""
    mentioned = []
    for token in _PATHLIKE.findall(request):
        token = token.strip("./")
        for f in ranked_files:
            if f == token or f.endswith("/" + token):
                mentioned.append(f)
    files = list(dict.fromkeys(mentioned + ranked_files[:3]))[:MAX_FILES]
    task_class = "local" if len(set(mentioned)) <= 2 else "repository"
    return Classification(task_class, "medium", tuple(files), f"heuristic: {why}", source="heuristic")


def parse_verdict(text: str) -> tuple[bool, str]:
    """(accept, reason) from a reviewer's JSON reply; raises ClassificationFormatError when there is none."""
    for obj in _json_objects(text or ""):
        verdict = _norm(obj.get("verdict", ""))
        if verdict in ("accept", "accepted", "approve", "approved"):
            return True, str(obj.get("reason", ""))[:500]
        if verdict in ("reject", "rejected", "request_changes"):
            return False, str(obj.get("reason", ""))[:500]
    raise ClassificationFormatError('no {"verdict": "accept" | "reject"} object in the reply')
