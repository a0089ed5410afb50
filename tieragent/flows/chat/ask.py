"""`/ask QUESTION`: an answer from the repository map and the files picked, with no edit.

The files are the pinned ones, those the question names, and the best-ranked few; the tier is the
rule's (`routing.questions.ask_tier`): small for a short lookup, mid for judgement, the frontier only
with `/ask!` or `/tier frontier`. An unavailable tier hands the question one tier up, never past
the mid tier unless the frontier was asked for.
"""

from __future__ import annotations

import re

from ...core import prompts
from ...core.errors import TieragentError
from ...core.vocab import MID, TIERS, Outcome, Step, Tier
from ...repo.context import FileContext, context_budget, gather_files
from ...repo.map import RepoMap
from ...routing.questions import ask_tier
from .session import Kind, Message
from .state import Chat
from .views import AnswerView, Level

RANKED_FILES = 3
_PATHLIKE = re.compile(r"[\w./-]+\.\w+")


def handle_ask(chat: Chat, question: str, escalate: bool) -> None:
    if not question.strip():
        chat.say("say what to ask: /ask QUESTION (or /ask! QUESTION for the frontier tier)", Level.WARNING)
        return
    if chat.out_of_budget():
        return
    mark = chat.begin()
    earlier = chat.earlier()
    gw = chat.gateway()
    cfg = chat.deps.config
    repo_map = chat.deps.repo_map()  # built again for each question: kept patches change what it shows
    outline = repo_map.outline(question, cfg.context.outline_tokens)
    files = _files(chat, repo_map, question)
    tier, why = ask_tier(question, files.tokens, chat.record.start_tier, escalate)
    messages = prompts.render(
        "ask",
        outline=outline,
        files=files.render(),
        earlier=f"\n{earlier}\n" if earlier else "",
        question=question,
    )
    answered_by, text, error = tier, "", None
    try:
        with chat.io.busy():
            for t in _tiers_from(tier):
                call = gw.call(Step.ASK, t, messages, note=why)
                if call.reply is not None:
                    answered_by, text = t, call.text.strip()
                    if not text:
                        gw.ledger.set_outcome(call.row, Outcome.FORMAT_ERROR, "empty answer")
                    break
    except TieragentError as err:  # over the budget, or a provider error no retry helps: the row is written
        error = err
    answer = chat.run.redactor(text)
    message = Message(
        chat.record.next_n(),
        Kind.ASK,
        question,
        "answered" if answer else "not answered",
        rows=chat.rows_since(mark),
        answer=answer,
    )
    chat.add(message)
    if error is not None:
        chat.say(f"not answered: {error}", Level.ERROR)
        return
    chat.show(AnswerView(message, answered_by, why))


def _tiers_from(tier: Tier) -> tuple[Tier, ...]:
    """The tier asked, then the tiers above it up to mid (the frontier only when it was asked)."""
    start = TIERS.index(tier)
    return TIERS[start : max(start, TIERS.index(MID)) + 1]


def _files(chat: Chat, repo_map: RepoMap, question: str) -> FileContext:
    named = [p for token in _PATHLIKE.findall(question) if (p := repo_map.resolve(token))]
    ranked = [f.path for f in repo_map.rank(question)[:RANKED_FILES]]
    cfg = chat.deps.config
    windows = chat.deps.models().context_windows
    budget = context_budget(
        cfg.context.max_file_tokens, {t: (windows.get(t), cfg.tier(t).max_output_tokens) for t in TIERS}
    )
    return gather_files(chat.deps.ws, list(dict.fromkeys([*chat.pinned(), *named, *ranked])), budget)
