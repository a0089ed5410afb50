"""The model gateway: the one door every flow's model calls go through.

For each call it masks secrets in the prompt, checks the budget against the call's worst case
and `max_calls`, emits a progress event, calls the provider, and writes exactly one ledger row
on every way out: a reply (`ok`, which the caller may re-mark, e.g. `format-error`), a provider
error, a budget stop, or an interrupt.

What happens when a tier is unavailable (a retryable provider error that outlived the retries)
is the step's declared `CallPolicy`, not code at each call site:

- `fall back`: the step has a stand-in that needs no model; the caller gets a `Call` without a reply.
- `skip tier`: another tier can do the step; the caller gets a `Call` without a reply and moves on.
- `fail`: nothing can stand in; the provider error propagates and the run ends with exit 4.

An error no retry or other tier can help (a bad key, an unknown model) always propagates. A prompt
over the tier's context window goes to the step's policy too: a smaller prompt or another tier may fit.

Every reply's text is sanitised here (`sanitize.clean_model_text`), so no flow writes or prints a
lone surrogate or a control character a model sent.

The reasoning effort is settled here too (`reasoning.plan_reasoning`): the caller's (a task class's),
else the tier's, raised when the caller asks, or the model's lowest for a step whose policy says
`least_effort`. The room it adds to the output limit is in the call's worst case.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..core.config import BudgetConfig, TierConfig
from ..core.errors import BudgetExceeded, ProviderError, TieragentError
from ..core.events import Event, OnEvent, ignore_events
from ..core.tokens import estimate_tokens
from ..core.vocab import Effort, Outcome, Step, StrEnum, Tier
from .budget import budget_check
from .ledger import Ledger, LedgerRow
from .prices import worst_case_cost
from .protocol import ModelReply, ModelRequest, Provider
from .reasoning import plan_reasoning
from .redact import Redactor
from .sanitize import clean_model_text


class Unavailable(StrEnum):
    FALL_BACK = "fall back"
    SKIP_TIER = "skip tier"
    FAIL = "fail"


@dataclass(frozen=True)
class CallPolicy:
    """What a step does when its call cannot be made."""

    unavailable: Unavailable
    fallback: str = ""  # said in the warning: what happens instead ("the heuristic classifies")
    over_budget_falls_back: bool = False  # a nicety (a commit message) falls back rather than stopping the run
    least_effort: bool = False  # little thought needed (classify, summarize, ...): the model's lowest reasoning effort


@dataclass(frozen=True)
class Call:
    """One call through the gateway: the reply (None when the policy let the step go on without
    one), the call's ledger row, and the error that stood in the way, if any."""

    reply: ModelReply | None
    row: LedgerRow
    error: TieragentError | None = None

    @property
    def text(self) -> str:
        return self.reply.text if self.reply else ""


def waited(started: float) -> float:
    """Seconds since `started`: what a call that brought no reply cost in time (a timeout is not free)."""
    return time.monotonic() - started


class Gateway:
    def __init__(
        self,
        provider: Provider,
        ledger: Ledger,
        tiers: Mapping[Tier, TierConfig],
        budget: BudgetConfig,
        policies: Mapping[Step, CallPolicy],
        *,
        redactor: Redactor | None = None,
        on_event: OnEvent = ignore_events,
    ):
        self.provider, self.ledger, self.tiers, self.budget = provider, ledger, tiers, budget
        self.policies = policies
        self.redactor = redactor or Redactor.from_environment(
            extra_names=tuple(c.api_key_env for c in tiers.values() if c.api_key_env)
        )
        self.on_event = on_event

    def call(
        self,
        step: Step,
        tier: Tier,
        messages: tuple[dict[str, str], ...],
        *,
        note: str = "",
        edit_format: str | None = None,
        effort: Effort | None = None,
        effort_raise: int = 0,
    ) -> Call:
        """Make one call at `tier`, or say why it was not made (see the module docstring). `effort`
        overrides the tier's reasoning effort; `effort_raise` asks for that many levels more."""
        policy = self.policies[step]  # a KeyError here is a bug: every step a flow calls declares its policy
        tier_cfg = self.tiers[tier]
        messages = tuple({**m, "content": self.redactor(m["content"])} for m in messages)
        request = self._request(step, tier, messages, policy, effort, effort_raise)
        worst = worst_case_cost(
            self.ledger.prices.get(tier), estimate_tokens(request.prompt_text()), request.output_cap
        )
        verdict = budget_check(self.budget, self.ledger.spent_usd, self.ledger.calls, worst)
        if not verdict.allowed:
            reason = verdict.reason
            if request.reasoning_tokens and worst is not None:
                reason += (
                    f" (with {request.reasoning_tokens:,} tokens of room for reasoning at effort {request.effort})"
                )
            row = self.ledger.record(step, tier, None, Outcome.BUDGET_STOP, reason, edit_format, request.effort)
            stop = BudgetExceeded(f"budget: {reason}")
            if policy.over_budget_falls_back:
                self._warn(step, f"{step} not called ({reason}); {policy.fallback}")
                return Call(None, row, stop)
            raise stop
        self.on_event(Event("step", f"{step} · {tier} ({tier_cfg.model})"))
        started = time.monotonic()
        try:
            reply = self.provider.complete(request)
        except ProviderError as err:
            row = self.ledger.record(
                step, tier, None, Outcome.PROVIDER_ERROR, err.message, edit_format, request.effort, waited(started)
            )
            # a prompt too big for this tier is the step's to handle (a smaller prompt, another tier), like a
            # tier that is down
            if (not err.retryable and err.kind != "context_window") or policy.unavailable is Unavailable.FAIL:
                raise
            what = (
                "the prompt is over its context window" if err.kind == "context_window" else f"unavailable ({err.kind})"
            )
            self._warn(step, f"{step}: {tier} tier {what}; {policy.fallback or policy.unavailable}")
            return Call(None, row, err)
        except KeyboardInterrupt:
            note = "interrupted while waiting for the reply"
            self.ledger.record(step, tier, None, Outcome.INTERRUPTED, note, seconds=waited(started))
            raise
        except Exception as exc:  # a missing key found at the first call, or a bug: still one row
            note = str(exc) or type(exc).__name__
            self.ledger.record(step, tier, None, Outcome.PROVIDER_ERROR, note, seconds=waited(started))
            raise
        reply = replace(reply, text=clean_model_text(reply.text))
        return Call(reply, self.ledger.record(step, tier, reply, Outcome.OK, note, edit_format, request.effort))

    def output_cap(self, step: Step, tier: Tier, effort: Effort | None = None, effort_raise: int = 0) -> int:
        """The output limit a call would be sent with (the answer's room and the reasoning's): the part of
        the tier's context window a prompt must leave free."""
        return self._request(step, tier, (), self.policies[step], effort, effort_raise).output_cap

    def _request(
        self,
        step: Step,
        tier: Tier,
        messages: tuple[dict[str, str], ...],
        policy: CallPolicy,
        effort: Effort | None,
        effort_raise: int,
    ) -> ModelRequest:
        cfg = self.tiers[tier]
        plan = plan_reasoning(
            cfg.model,
            effort or cfg.reasoning_effort,
            answer_tokens=cfg.max_output_tokens,
            least=policy.least_effort,
            raise_steps=effort_raise,
        )
        return ModelRequest(step, tier, messages, cfg.max_output_tokens, plan.effort, plan.reasoning_tokens)

    def unmask(self, text: str) -> str:
        """A reply with the secrets its prompt had masked put back: for what is written to disk, never for output."""
        return self.redactor.unmask(text)

    def _warn(self, step: Step, message: str) -> None:
        self.on_event(Event("warning", message))
