"""The classify step: task class, risk and files from the small tier, read leniently.

Models wrap JSON in fences, put prose around it, or use near-miss spellings ("long-horizon",
"High"). Those are accepted; anything that does not say a class and a risk is a format error,
and after two of those (or when the small tier is unavailable) a heuristic decides so the run goes on.
"""

from __future__ import annotations

import re

from ...core import prompts
from ...core.vocab import RISKS, SMALL, TASK_CLASSES, Outcome, Step, TaskClass
from ...routing.policy import Classification
from ..replies import ReplyFormatError, json_objects, norm
from .session import Session

MAX_FILES = 8


def parse_classification(text: str) -> Classification:
    objects = json_objects(text)
    if not objects:
        raise ReplyFormatError("no JSON object found in the reply")
    problems = []
    for obj in objects:
        task_class, risk = norm(obj.get("task_class", "")), norm(obj.get("risk", ""))
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
        return Classification(
            task_class, risk, tuple(dict.fromkeys(paths))[:MAX_FILES], str(obj.get("reason", ""))[:500]
        )
    raise ReplyFormatError(problems[0])


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
    task_class: TaskClass = "local" if len(set(mentioned)) <= 2 else "repository"
    return Classification(task_class, "medium", tuple(files), f"heuristic: {why}", source="heuristic")


def classify(s: Session, request: str) -> Classification:
    """Two tries at the small tier with the repository outline; the heuristic when neither is usable."""
    outline = s.repo_map().outline(request, s.cfg.context.outline_tokens)
    feedback, why = "", "the small model's reply was unusable"
    for _ in (1, 2):
        call = s.gw.call(
            Step.CLASSIFY, SMALL, prompts.render("classify", request=request, outline=outline, feedback=feedback)
        )
        if call.reply is None:  # the small tier is unavailable: the gateway warned
            why = "the small tier was unavailable"
            break
        try:
            c = parse_classification(call.text)
        except ReplyFormatError as err:
            s.gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, str(err))
            feedback = f"\nYour previous answer was not usable: {err}. Answer with the JSON object only."
            continue
        s.gw.ledger.set_outcome(call.row, Outcome.OK, f"{c.task_class}, {c.risk} risk")
        return c
    if call.reply is not None:
        s.events.warn("the small model's classification was unusable; classified by heuristic")
    ranked = [f.path for f in s.repo_map().rank(request)]
    return heuristic_classification(request, ranked, why)
