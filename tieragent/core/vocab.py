"""The words every layer shares: tiers, task classes, risks, the steps of a flow, and call outcomes.

Each is defined once here. Steps and outcomes are string enums, so they compare equal to the
strings stored in the ledger history and serialize to JSON as those strings.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, get_args

Tier = Literal["small", "mid", "frontier"]
TIERS: tuple[Tier, ...] = get_args(Tier)  # cheapest first: the escalation order
SMALL, MID, FRONTIER = TIERS

TaskClass = Literal["mechanical", "local", "repository", "long_horizon"]
TASK_CLASSES: tuple[TaskClass, ...] = get_args(TaskClass)
# routing.start's values: a tier, or `auto` (the tier with the least expected cost per solved task)
AUTO = "auto"
StartTier = Literal["small", "mid", "frontier", "auto"]

Risk = Literal["low", "medium", "high"]
RISKS: tuple[Risk, ...] = get_args(Risk)

# How hard a model reasons before it answers, least first (each wire sends it in its own form).
Effort = Literal["none", "minimal", "low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = get_args(Effort)
# When a stronger tier verifies a cheaper tier's validated patch: when its tests say little, always, never.
VerifyMode = Literal["thin", "always", "never"]
# How a patch is written: a unified diff, the whole new file, or search/replace blocks.
EditFormat = Literal["diff", "whole", "search_replace"]
EDIT_FORMATS: tuple[EditFormat, ...] = get_args(EditFormat)


class StrEnum(str, Enum):
    """enum.StrEnum for Python 3.10: members are their values, in f-strings and JSON alike."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Step(StrEnum):
    """A kind of model call. Every ledger row and every request header names one."""

    CLASSIFY = "classify"  # fix: task class, risk and files, from the request and the outline
    REPRO = "repro"  # fix --repro: a test that must fail before the patch
    PATCH = "patch"  # fix: a diff or a whole file
    SUMMARIZE = "summarize"  # fix: long failure output, condensed for the next attempt
    REVIEW = "review"  # fix: the frontier's verdict on a high-risk patch; review: findings on a hunk
    VERIFY = "verify"  # fix: a stronger tier's verdict on a cheaper tier's patch the tests say little about
    COMMIT_MESSAGE = "commit-message"  # fix --commit
    REVIEW_TRIAGE = "review-triage"  # review: the small tier rates each hunk's risk
    PING = "ping"  # doctor --ping: a one-token request to see that a tier answers
    ASK = "ask"  # chat /ask: a question answered without edits
    COMPACT = "compact"  # chat: the session so far, summarized when it outgrows the smallest window


class Outcome(StrEnum):
    """What became of one model call (one ledger row)."""

    OK = "ok"
    APPLY_FAILED = "apply-failed"  # the diff could not be placed in the files
    TESTS_FAILED = "tests-failed"
    LINT_FAILED = "lint-failed"
    FORMAT_ERROR = "format-error"  # the reply could not be read (no diff, no JSON, ...)
    PROVIDER_ERROR = "provider-error"  # the call failed after retries; no reply
    BUDGET_STOP = "budget-stop"  # the call was not made: it could have passed the budget
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM arrived while the call was under way
    TEST_EDIT_REFUSED = "test-edit-refused"  # the patch edits tests, CI or lint config, and that was not allowed
    REVIEW_REJECTED = "review-rejected"  # validated, but the frontier's review said no (or could not be had)
    VERIFY_REJECTED = "verify-rejected"  # validated on thin evidence, and the verifier said it misses the request
    # a --repro test that passes on the current code reproduces nothing; a patch not applied because the
    # baseline, which ran while it was written, cannot judge it
    DISCARDED = "discarded"


# Rows that stand for a request the provider actually received (max_calls counts these).
CALL_MADE = frozenset(set(Outcome) - {Outcome.BUDGET_STOP})
