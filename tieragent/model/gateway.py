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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..core.config import BudgetConfig, TierConfig
from ..core.errors import BudgetExceeded, ProviderError, TieragentError
from ..core.events import Event, OnEvent, ignore_events
from ..core.tokens import estimate_tokens
from ..core.vocab import Outcome, Step, StrEnum, Tier
from .budget import budget_check
from .ledger import Ledger, LedgerRow
from .prices import worst_case_cost
from .protocol import ModelReply, ModelRequest, Provider
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
    ) -> Call:
        """Make one call at `tier`, or say why it was not made (see the module docstring)."""
        policy = self.policies[step]  # a KeyError here is a bug: every step a flow calls declares its policy
        tier_cfg = self.tiers[tier]
        messages = tuple({**m, "content": self.redactor(m["content"])} for m in messages)
        request = ModelRequest(step, tier, messages, tier_cfg.max_output_tokens)
        worst = worst_case_cost(
            self.ledger.prices.get(tier), estimate_tokens(request.prompt_text()), request.max_tokens
        )
        verdict = budget_check(self.budget, self.ledger.spent_usd, self.ledger.calls, worst)
        if not verdict.allowed:
            row = self.ledger.record(step, tier, None, Outcome.BUDGET_STOP, verdict.reason, edit_format)
            stop = BudgetExceeded(f"budget: {verdict.reason}")
            if policy.over_budget_falls_back:
                self._warn(step, f"{step} not called ({verdict.reason}); {policy.fallback}")
                return Call(None, row, stop)
            raise stop
        self.on_event(Event("step", f"{step} · {tier} ({tier_cfg.model})"))
        try:
            reply = self.provider.complete(request)
        except ProviderError as err:
            row = self.ledger.record(step, tier, None, Outcome.PROVIDER_ERROR, err.message, edit_format)
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
            self.ledger.record(step, tier, None, Outcome.INTERRUPTED, "interrupted while waiting for the reply")
            raise
        except Exception as exc:  # a missing key found at the first call, or a bug: still one row
            self.ledger.record(step, tier, None, Outcome.PROVIDER_ERROR, str(exc) or type(exc).__name__)
            raise
        reply = replace(reply, text=clean_model_text(reply.text))
        return Call(reply, self.ledger.record(step, tier, reply, Outcome.OK, note, edit_format))

    def unmask(self, text: str) -> str:
        """A reply with the secrets its prompt had masked put back: for what is written to disk, never for output."""
        return self.redactor.unmask(text)

    def _warn(self, step: Step, message: str) -> None:
        self.on_event(Event("warning", message))
