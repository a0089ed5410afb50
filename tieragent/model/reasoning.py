"""Reasoning effort by model: which models take which setting, in which form, and how much room the
reasoning gets in the output limit.

tieragent's scale is `core.vocab.EFFORTS` (none < minimal < low < medium < high). A model family
takes some of those levels (`Family.levels`); a requested level becomes the nearest one the family
takes at or above it (the highest, when none is). Each wire sends the level in its own form:

- OpenAI's chat completions (and every endpoint that copies them: Gemini's OpenAI endpoint, vLLM for
  gpt-oss): `reasoning_effort`. o-series: low, medium, high. gpt-5, gpt-5-mini, gpt-5-nano: minimal to
  high. gpt-5.1 and later: none, low, medium, high. gpt-5-pro: high only. Gemini 2.5 Flash: none to
  high (none turns thinking off); 2.5 Pro: low to high; Gemini 3 Pro: low, high; 3 Flash: minimal to high.
- Anthropic's messages, Claude 3.7 to 4.5: `thinking: {type: enabled, budget_tokens}` (none: no
  thinking); the budget is the level's allowance (at least 1,024, below max_tokens).
- Anthropic's messages, Claude 4.6 and later (which reject budget_tokens from Opus 4.7 on):
  `thinking: {type: adaptive}` with `output_config: {effort}` (low, medium, high); none: no
  thinking, at effort low.
- Ollama: `think: true|false` for its thinking models (Qwen 3, DeepSeek R1 and V3.1, Magistral);
  `think: low|medium|high` for gpt-oss, which cannot stop thinking. Other models get nothing: Ollama
  refuses `think` for a model without thinking.
- litellm: `reasoning_effort=` as resolved here, mapped by litellm for its provider.

A model whose family is not known here gets nothing: the provider's default applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.tokens import estimate_tokens
from ..core.vocab import EFFORTS, Effort, StrEnum
from . import model_map


class Control(StrEnum):
    """How a family takes a reasoning effort."""

    EFFORT = "reasoning_effort"  # OpenAI's chat completions: one of `levels`
    BUDGET = "thinking budget_tokens"  # Anthropic, Claude 3.7 to 4.5
    ADAPTIVE = "adaptive thinking with output_config.effort"  # Anthropic, Claude 4.6 and later
    THINK = "think on or off"  # Ollama's thinking models
    THINK_LEVELS = "think low|medium|high"  # Ollama's gpt-oss


class Temperature(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # OpenAI's reasoning models, Claude Opus 4.7 and later
    REFUSED_WHILE_THINKING = "refused while it thinks"  # Anthropic's thinking wants the default temperature


@dataclass(frozen=True)
class Family:
    name: str  # what doctor calls it
    control: Control | None  # None: it takes no reasoning setting
    levels: tuple[Effort, ...] = ()  # the levels it takes, least first
    default: Effort | None = None  # what it does when nothing is sent (a raise starts from there)
    temperature: Temperature = Temperature.ACCEPTED


ALL: tuple[Effort, ...] = EFFORTS
# The room each level adds to the output limit: an Anthropic budget's size, elsewhere the share a
# reasoning model typically takes at that level (the providers report no number before the call).
ALLOWANCE: dict[Effort, int] = {"none": 0, "minimal": 1024, "low": 4096, "medium": 8192, "high": 16384}
MIN_THINKING_BUDGET = 1024  # Anthropic refuses a smaller budget_tokens

_OLLAMA = ("ollama", "ollama_chat")
_CLAUDE_CARRIERS = ("anthropic", "bedrock", "vertex_ai")

_OPENAI_RULES: tuple[tuple[str, Family | None], ...] = (
    (r"o1-(mini|preview)", Family("OpenAI o1-mini/o1-preview", None, temperature=Temperature.REFUSED)),
    (r"o\d", Family("OpenAI o-series", Control.EFFORT, ("low", "medium", "high"), "medium", Temperature.REFUSED)),
    (r"gpt-5-pro", Family("OpenAI gpt-5-pro", Control.EFFORT, ("high",), "high", Temperature.REFUSED)),
    (r"gpt-5-chat", None),  # a chat model without reasoning
    (
        r"gpt-5\.\d",
        Family(
            "OpenAI gpt-5.1 and later", Control.EFFORT, ("none", "low", "medium", "high"), "none", Temperature.REFUSED
        ),
    ),
    (
        r"gpt-5",
        Family("OpenAI gpt-5", Control.EFFORT, ("minimal", "low", "medium", "high"), "medium", Temperature.REFUSED),
    ),
    (r"gpt-oss", Family("gpt-oss", Control.EFFORT, ("low", "medium", "high"), "medium")),
)
_GEMINI_RULES: tuple[tuple[str, Family | None], ...] = (
    (r"gemini-2\.5-pro", Family("Gemini 2.5 Pro", Control.EFFORT, ("low", "medium", "high"), "medium")),
    (r"gemini-2\.5-flash", Family("Gemini 2.5 Flash", Control.EFFORT, ("none", "low", "medium", "high"), "medium")),
    (r"gemini-3(\.\d)?-pro", Family("Gemini 3 Pro", Control.EFFORT, ("low", "high"), "high")),
    (r"gemini-3(\.\d)?-flash", Family("Gemini 3 Flash", Control.EFFORT, ("minimal", "low", "medium", "high"), "high")),
)
_OLLAMA_RULES: tuple[tuple[str, Family | None], ...] = (
    (r"gpt-oss", Family("gpt-oss on Ollama", Control.THINK_LEVELS, ("low", "medium", "high"), "medium")),
    (
        r"(qwen3(?![-.]?coder)(?!-instruct)|deepseek-r1|deepseek-v3\.1|magistral)",
        Family("a thinking model on Ollama", Control.THINK, ALL, "medium"),
    ),
)
_CLAUDE_OLD_NAME = re.compile(r"claude-(\d+)-(\d)-(?:sonnet|opus|haiku)")  # claude-3-7-sonnet
_CLAUDE_NAME = re.compile(r"claude-(sonnet|opus|haiku)-(\d+)(?:[-.](\d)(?!\d))?")  # claude-sonnet-4-5-20250929


def family_of(model: str) -> Family | None:
    """The reasoning family of a 'provider/name' model (None: nothing is known of it)."""
    provider, _, name = model.lower().rpartition("/")
    provider = provider.split("/", 1)[0]
    if provider in _OLLAMA:
        return _first(_OLLAMA_RULES, name)
    if "claude" in name:
        return _claude(name) if provider in _CLAUDE_CARRIERS else None
    if name.startswith("gemini"):
        return _first(_GEMINI_RULES, name)
    return _first(_OPENAI_RULES, name)


def _first(rules: tuple[tuple[str, Family | None], ...], name: str) -> Family | None:
    for pattern, family in rules:
        if re.match(pattern, name):
            return family
    return None


def _claude(name: str) -> Family | None:
    old, new = _CLAUDE_OLD_NAME.search(name), _CLAUDE_NAME.search(name)
    if old:
        kind, version = "", (int(old.group(1)), int(old.group(2)))
    elif new:
        kind, version = new.group(1), (int(new.group(2)), int(new.group(3) or 0))
    else:
        return None
    if version >= (4, 6):  # adaptive thinking; Opus 4.7 and later refuse budget_tokens and sampling settings
        refuses = (kind == "opus" and version >= (4, 7)) or version >= (5, 0)
        temperature = Temperature.REFUSED if refuses else Temperature.REFUSED_WHILE_THINKING
        return Family("Claude 4.6 and later", Control.ADAPTIVE, ("none", "low", "medium", "high"), "none", temperature)
    if version >= (3, 7):
        return Family("Claude 3.7 to 4.5", Control.BUDGET, ALL, "none", Temperature.REFUSED_WHILE_THINKING)
    return None  # Claude 3.5 and older do not think


# ---------------------------------------------------------------- what a call sends


@dataclass(frozen=True)
class ReasoningPlan:
    effort: Effort | None  # the level sent (one the model takes); None: nothing is sent
    reasoning_tokens: int = 0  # room for the reasoning, added to the output limit


def nearest(family: Family, effort: Effort) -> Effort:
    """The least level the family takes at or above `effort`; its highest when none is."""
    at_or_above = [e for e in family.levels if EFFORTS.index(e) >= EFFORTS.index(effort)]
    return at_or_above[0] if at_or_above else family.levels[-1]


def raised(family: Family, effort: Effort, steps: int) -> Effort:
    """`steps` levels above `effort` among those the family takes (no higher than its highest). A
    think switch has only off and on: every level above none is the same request."""
    if family.control is Control.THINK:
        return "low" if steps and effort == "none" else effort
    i = family.levels.index(effort) + steps
    return family.levels[min(i, len(family.levels) - 1)]


def plan_reasoning(
    model: str, requested: Effort | None, *, answer_tokens: int, least: bool = False, raise_steps: int = 0
) -> ReasoningPlan:
    """What to send `model`: `requested` as the nearest level it takes, `raise_steps` levels higher
    (from its default when nothing is requested), or its lowest level (`least`). The room for the
    reasoning is the level's allowance, within the model's output limit where litellm's map knows it."""
    family = family_of(model)
    if family is None or family.control is None:
        return ReasoningPlan(None)
    if least:
        effort = family.levels[0]
    else:
        base = requested if requested is not None else family.default if raise_steps else None
        if base is None:
            return ReasoningPlan(None)
        effort = raised(family, nearest(family, base), raise_steps)
    room = ALLOWANCE[effort]
    limit = model_map.model_info(model).get("max_output_tokens")
    if isinstance(limit, int) and limit > 0:
        room = max(min(room, limit - answer_tokens), 0)
    if family.control is Control.BUDGET and effort != "none" and room < MIN_THINKING_BUDGET:
        return ReasoningPlan(None)  # no room left for the least budget Anthropic takes: no thinking
    return ReasoningPlan(effort, room)


def sends_temperature(family: Family | None, effort: Effort | None) -> bool:
    """Whether a configured temperature may go with a request at `effort` (None: nothing sent)."""
    if family is None or family.temperature is Temperature.ACCEPTED:
        return True
    if family.temperature is Temperature.REFUSED:
        return False
    return effort in (None, "none")  # Anthropic's thinking runs at the default temperature only


def reasoning_share(output_tokens: int, answer: str) -> int:
    """Reasoning tokens where the provider counts them only within the output (Anthropic's thinking,
    whose blocks hold a summary or nothing): the output less the answer's estimated size."""
    return max(output_tokens - estimate_tokens(answer), 0)


def output_with_reasoning(prompt: int, completion: int, reasoning: int, total: int | None) -> int:
    """OpenAI counts reasoning within completion_tokens; some endpoints that copy its format (Gemini's,
    some proxies) count it apart, as total_tokens then shows. Either way it is billed as output."""
    if reasoning and total is not None and total - prompt >= completion + reasoning:
        return completion + reasoning
    return completion


def can_raise(model: str, requested: Effort | None) -> bool:
    """Whether one level more than `requested` (else than the model's default) is a different request."""
    family = family_of(model)
    if family is None or family.control is None:
        return False
    base = nearest(family, requested) if requested is not None else family.default
    return base is not None and raised(family, base, 1) != base


@dataclass(frozen=True)
class SettingsReport:
    """What `tieragent doctor` says of a tier's reasoning and temperature settings."""

    detail: str
    problem: str | None = None  # a setting that is set but will not be sent as set
    hint: str | None = None


def describe_settings(
    model: str, effort: Effort | None, temperature: float | None, by_class: dict[str, Effort] | None = None
) -> SettingsReport:
    """Which of the tier's settings its model takes: the reasoning levels and their form, the
    temperature, and how the configured efforts (the tier's, each task class's) will be sent."""
    family = family_of(model)
    configured = [e for e in (effort, *(by_class or {}).values()) if e is not None]
    problems, hints = [], []
    if family is None or family.control is None:
        known = f"{family.name}: " if family else ""
        detail = f"{known}takes no reasoning setting tieragent knows (none is sent); temperature {_temp(family)}"
        if effort is not None:  # a task class's effort is for whichever tier patches: not this tier's problem
            problems.append(f"reasoning_effort {effort} is set but not sent to {model}")
            hints.append(
                "Remove reasoning_effort, or use a model that reasons (OpenAI o-series or gpt-5, Claude 3.7 or later, "
                "Gemini 2.5 or later, a thinking model on Ollama)."
            )
    else:
        efforts = [f"tier: {_sent(family, effort)}" if effort else "tier: the provider's default"]
        efforts += [f"{cls}: {_sent(family, e)}" for cls, e in (by_class or {}).items()]
        levels = ", ".join(family.levels)
        detail = f"{family.name}: {family.control} ({levels}; {'; '.join(efforts)}); temperature {_temp(family)}"
    thinks = family is not None and any(not sends_temperature(family, _level(family, e)) for e in configured)
    if temperature is not None and family is not None and (family.temperature is Temperature.REFUSED or thinks):
        when = "" if family.temperature is Temperature.REFUSED else " while it thinks"
        problems.append(f"temperature {temperature:g} is not sent{when}: {family.name} refuses it")
        hints.append("Remove tiers.<tier>.temperature for this model.")
    if problems:
        return SettingsReport(detail, "; ".join(problems), " ".join(hints))
    return SettingsReport(detail)


def _level(family: Family, effort: Effort) -> Effort:
    return nearest(family, effort) if family.levels else effort


def _sent(family: Family, effort: Effort) -> str:
    level = nearest(family, effort)
    return effort if level == effort else f"{effort} (sent as {level})"


def _temp(family: Family | None) -> str:
    return str(family.temperature if family else Temperature.ACCEPTED)
