"""Typed configuration: defaults < user file < repo `.tieragent.yaml` < env vars < CLI flags.

Each field is documented where it is defined. Errors name the file, the dotted key and the
reason (``.tieragent.yaml: tiers.mid.model: missing``) and exit 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, field_validator

from .config_layers import (
    Origins,
    config_file_exists,
    env_layers,
    error_reason,
    merge,
    parse_layer,
    read_layer_text,
    source_of,
)
from .errors import ConfigError, UsageError
from .vocab import AUTO, TASK_CLASSES, TIERS, EditFormat, Effort, StartTier, TaskClass, Tier, VerifyMode

REPO_CONFIG_NAME = ".tieragent.yaml"


class _Strict(BaseModel):
    # Unknown keys are almost always typos; reject them rather than ignore them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Price(_Strict):
    """Prices in USD per million tokens. Overrides litellm's price map for this tier."""

    input_per_mtok: float = Field(ge=0, description="USD per million uncached input tokens.")
    output_per_mtok: float = Field(ge=0, description="USD per million output tokens.")
    cached_input_per_mtok: float | None = Field(
        default=None, ge=0, description="USD per million cached input tokens; input price when unset."
    )
    cache_write_per_mtok: float | None = Field(
        default=None,
        ge=0,
        description="USD per million input tokens written to the provider's prompt cache (Anthropic bills them above "
        "the input price); input price when unset.",
    )


class TierConfig(_Strict):
    """One model tier."""

    model: str = Field(
        min_length=1,
        description=(
            "'provider/model', as litellm names them, e.g. 'anthropic/claude-sonnet-4-5', "
            "'openai/gpt-5-mini', 'ollama_chat/qwen2.5-coder'. openai/ (with api_base: any OpenAI-compatible server), "
            "anthropic/ and ollama/ are called directly."
        ),
    )
    api_base: str | None = Field(
        default=None,
        description=(
            "Endpoint URL (an OpenAI-compatible server such as vLLM or llama.cpp, Ollama, a LiteLLM proxy, ...)."
        ),
    )
    api_key_env: str | None = Field(
        default=None,
        description="NAME of the env var holding this tier's key. Unset: the provider's usual variable.",
    )
    price: Price | None = Field(default=None, description="Prices; unset: litellm's local price map.")
    timeout_s: float = Field(default=120.0, gt=0, description="Seconds before one request is abandoned.")
    max_context: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Context window in tokens; unset: litellm's map, else 32,000. Ollama models are sent it as "
            "num_ctx (unset: the prompt and answer's size, in 8,192-token steps), since Ollama silently cuts prompts "
            "at its default."
        ),
    )
    max_output_tokens: int = Field(
        default=4096,
        gt=0,
        description="Room for the answer: the max_tokens sent with every request (with reasoning_effort, plus the "
        "room for the reasoning).",
    )
    stream: bool = Field(default=False, description="Stream replies (some gateways need it for long replies).")
    temperature: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Sampling temperature sent with every request of this tier; unset: the provider's default. "
        "Small models are steadier at 0; reasoning models refuse any value (leave it unset for them).",
    )
    reasoning_effort: Effort | None = Field(
        default=None,
        description="How hard this tier's model reasons before it answers: none, minimal, low, medium or high; "
        "unset: the provider's default. Sent in the form the model takes (reasoning_effort for OpenAI's and Gemini's "
        "models, thinking for Anthropic's, think for Ollama's), as the nearest level it accepts; not sent to a model "
        "that takes none (tieragent doctor says which). Steps that need little thought (classify, summarize, commit "
        "messages, review triage) use the model's lowest level. Each level adds room for the reasoning to the output "
        "limit (minimal 1,024 tokens, low 4,096, medium 8,192, high 16,384), and the budget counts it.",
    )
    edit_format: Literal["auto", "diff", "whole", "search_replace"] = Field(
        default="auto",
        description="How this tier writes patches. diff: unified diffs only. search_replace: SEARCH/REPLACE blocks "
        "only. whole: the complete new content of each file (for files that fit max_output_tokens; bigger ones get "
        "the model's edit format). auto: what this model's recent attempts taught (in this repository first, then "
        "across repositories, 5 attempts or more), else routing.edit_formats, else the built-in table of model "
        "families; local and unknown models start with whole files; two failed edits at the tier in one run also "
        "switch it to whole files. `--explain-routing` says which and why.",
    )


class Tiers(_Strict):
    small: TierConfig | None = Field(default=None, description="Cheap model: classify, summarize, commit messages.")
    mid: TierConfig | None = Field(default=None, description="Workhorse: writes most patches.")
    frontier: TierConfig | None = Field(default=None, description="Called when cheaper patches fail or risk is high.")


class ValidateConfig(_Strict):
    test: str | None = Field(default=None, description="Test command, run in the repo root. Detected when unset.")
    lint: str | None = Field(default=None, description="Lint command; optional.")
    timeout_s: float = Field(default=600.0, gt=0, description="Seconds each command may run.")
    env_passthrough: list[str] = Field(
        default_factory=list,
        description=(
            "Variables beyond the built-in allowlist (PATH, HOME, locale, the virtualenv, toolchains) that "
            "the test and lint commands need, e.g. DATABASE_URL; every other variable is dropped. Taken from trusted "
            "layers only: a repository's .tieragent.yaml that lists any is used once you trust it."
        ),
    )
    network: Literal["on", "off"] = Field(
        default="on",
        description="off: run the test and lint commands without network (a new network namespace on Linux); "
        "a warning says so when the system does not allow it.",
    )
    junit_xml: str | None = Field(
        default=None,
        description=(
            "Glob, relative to the repository root, of the JUnit XML files the test command writes "
            "(e.g. `reports/junit-*.xml`): per-test results are read from the files each run wrote, for any runner "
            "(tox, nox, make, a custom script). Unset: tieragent adds a reporter itself where it knows the runner "
            "(pytest, unittest, node --test, jest, vitest, mocha, go test, cargo test) and reads Maven's and Gradle's "
            "reports."
        ),
    )
    staged: bool = Field(
        default=True,
        description="Run a candidate patch's targeted tests first (the failing tests the request is about, and the "
        "test files that use the changed files) and refuse it at once when they fail; only a candidate that passes "
        "them runs the full suite, which alone accepts. false: every candidate runs the full suite. Where the runner "
        "cannot run a chosen set of files, the full suite runs.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Variables set for the test and lint commands only (e.g. PYTHONPATH for a checkout of an "
        "editable install, so the tests import the patched copy).",
    )


class BudgetConfig(_Strict):
    max_cost_usd: float | None = Field(default=2.0, ge=0, description="Stop (exit 3) before a call could pass this.")
    max_calls: int | None = Field(default=None, gt=0, description="Stop (exit 3) before making more model calls.")


DEFAULT_START: dict[TaskClass, Tier] = {
    "mechanical": "small",
    "local": "mid",
    "repository": "mid",
    "long_horizon": "frontier",
}
DEFAULT_ATTEMPTS: dict[Tier, int] = {"small": 1, "mid": 2, "frontier": 2}


def _default_start() -> dict[TaskClass, StartTier]:
    return {**DEFAULT_START}


class RoutingConfig(_Strict):
    """Where patching starts and how many attempts each tier gets."""

    start: dict[TaskClass, StartTier] = Field(
        default_factory=_default_start,
        description="Starting tier for the patch step, per task class (small, mid, frontier or auto), or auto for "
        "every class; classes not given keep their default. auto: the tier with the least expected cost per solved "
        "task, measured on this repository's ledger history with the default table as the prior (docs/routing.md).",
    )
    high_risk: Tier = Field(default="frontier", description="Starting tier when the task is high-risk.")
    attempts: dict[Tier, NonNegativeInt] = Field(
        default_factory=lambda: dict(DEFAULT_ATTEMPTS),
        description="Patch attempts per tier before escalating (mid: 1 try + 1 retry with the failure); "
        "tiers not given keep their default, 0 skips a tier.",
    )

    # `attempts: {mid: 3}` means "mid gets 3", not "small and frontier get none".
    @field_validator("start", mode="before")
    @classmethod
    def _start_over_defaults(cls, value: Any) -> Any:
        if value == AUTO:  # `start: auto`: every class
            return dict.fromkeys(TASK_CLASSES, AUTO)
        if isinstance(value, str):
            raise ValueError("give auto, or a mapping of task class to small, mid, frontier or auto")
        return {**DEFAULT_START, **value} if isinstance(value, dict) else value

    @field_validator("attempts", mode="before")
    @classmethod
    def _attempts_over_defaults(cls, value: Any) -> Any:
        return {**DEFAULT_ATTEMPTS, **value} if isinstance(value, dict) else value

    retry_same_failure: bool = Field(
        default=False,
        description="false: a tier's retry is made only when feedback can help (the patch did not apply or was "
        "malformed, or it made progress: a different failure than the attempt before, or than before any patch); "
        "an attempt that fails the same tests the same way moves up the ladder, or at the top ends the run.",
    )
    review_high_risk: bool = Field(
        default=True,
        description="On a high-risk task, the frontier reviews a cheaper tier's validated patch before it is accepted.",
    )
    verify: VerifyMode = Field(
        default="thin",
        description="When a stronger tier checks that a cheaper tier's validated patch does what the request asks: "
        "thin (when the tests say little: none was fixed, those about the request hold one assertion, or coverage.py "
        "shows changed lines no test runs), always, or never.",
    )
    verify_tier: Literal["mid", "frontier"] = Field(
        default="frontier", description="The tier that verifies; only patches from tiers below it are verified."
    )
    verify_effort: Effort | None = Field(
        default="low", description="The verifier's reasoning effort (unset: its tier's reasoning_effort)."
    )
    reasoning_effort: dict[TaskClass, Effort] = Field(
        default_factory=dict,
        description="Reasoning effort of the patch step per task class, over the tier's reasoning_effort "
        "(e.g. {mechanical: minimal, long_horizon: high}); classes not given keep the tier's.",
    )
    raise_effort_before_escalating: bool = Field(
        default=False,
        description="A tier whose patch failed tries once more with one step more reasoning effort before the next "
        "tier is asked (skipped when the model is already at its highest level or takes no effort setting).",
    )
    edit_formats: dict[str, EditFormat] = Field(
        default_factory=dict,
        description="Model name pattern (a glob such as 'openai/my-finetune*' or '*qwen3*', matched against the "
        "tier's model without case) -> the edit format `edit_format: auto` starts with for it, before the built-in "
        "table: diff, search_replace or whole. What the model's attempts teach still overrides it.",
    )


class RiskConfig(_Strict):
    """Deterministic risk rules; any rule that fires makes the task high-risk."""

    sensitive_paths: list[str] | None = Field(
        default=None,
        description=(
            "gitignore-style globs of sensitive paths; unset: the built-in list (auth, crypto, CI, manifests, ...)."
        ),
    )
    extra_sensitive_paths: list[str] = Field(default_factory=list, description="Globs added to the sensitive paths.")
    max_files: int = Field(default=6, gt=0, description="A patch touching more files than this is high-risk.")
    max_changed_lines: int = Field(default=200, gt=0, description="A patch changing more lines than this is high-risk.")
    max_deleted_lines: int = Field(
        default=60, gt=0, description="A patch deleting more lines (net) than this is high-risk."
    )


class ContextConfig(_Strict):
    outline_tokens: int = Field(default=1500, gt=0, description="Token budget of the repo outline sent to classify.")
    max_file_tokens: int = Field(default=12000, gt=0, description="Token budget for file contents sent to patch.")


class ProviderConfig(_Strict):
    retries: int = Field(default=2, ge=0, description="Retries of a call after a timeout, rate limit or 5xx.")
    backoff_s: float = Field(default=1.0, ge=0, description="First retry delay; doubles each retry, with jitter.")
    max_wait_s: float = Field(
        default=60.0,
        ge=0,
        description="At most this long waiting between retries of one call (a 429's Retry-After included).",
    )
    client: Literal["auto", "litellm"] = Field(
        default="auto",
        description=(
            "auto: tiers with openai/... models (OpenAI and every OpenAI-compatible endpoint), "
            "anthropic/... and ollama/... or ollama_chat/... models are called directly over HTTP, the others through "
            "litellm, which is imported only when one of those tiers is configured (its import takes seconds). "
            "litellm: every tier through litellm."
        ),
    )


class Config(_Strict):
    tiers: Tiers = Field(default_factory=Tiers)
    validation: ValidateConfig = Field(default_factory=ValidateConfig, alias="validate")
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    provider: ProviderConfig = Field(default_factory=ProviderConfig)

    def tier(self, name: Tier) -> TierConfig:
        cfg: TierConfig | None = getattr(self.tiers, name)
        if cfg is None:  # require_models() runs before any tier is used
            raise UsageError(f"tier {name!r} is not configured")
        return cfg


# ---------------------------------------------------------------- loading


def user_config_path() -> Path:
    from platformdirs import user_config_path as _ucp

    return _ucp("tieragent") / "config.yaml"


@dataclass(frozen=True)
class RepoLayer:
    """The repository's `.tieragent.yaml` as a config layer: its text (None: there is none) and the
    label errors and `config show` give it (".tieragent.yaml", or the base's copy under review)."""

    text: str | None
    label: str = REPO_CONFIG_NAME


def read_repo_layer(repo_root: Path | None) -> RepoLayer:
    """The work tree's `.tieragent.yaml`."""
    if repo_root is None or not config_file_exists(repo_root / REPO_CONFIG_NAME, REPO_CONFIG_NAME):
        return RepoLayer(None)
    return RepoLayer(read_layer_text(repo_root / REPO_CONFIG_NAME, REPO_CONFIG_NAME))


def load_config(
    repo_root: Path | None,
    *,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    user_file: Path | None = None,
    repo_layer: RepoLayer | None = None,
) -> Config:
    """Merge every layer and validate once; the first error names where the bad value came from."""
    return load_config_with_sources(
        repo_root, overrides=overrides, environ=environ, user_file=user_file, repo_layer=repo_layer
    )[0]


DEFAULT_SOURCE = "default"
FLAG_SOURCE = "flag"
_OVERRIDES_LABEL = "command line"  # how an error names a bad flag value


def load_config_with_sources(
    repo_root: Path | None,
    *,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    user_file: Path | None = None,
    repo_layer: RepoLayer | None = None,
) -> tuple[Config, dict[str, str]]:
    """`load_config`, plus where every leaf value came from (for `tieragent config show`).

    Sources, by dotted key (`tiers.mid.model`, keys as `model_dump(by_alias=True)` spells them):
    "default", the user file's path, the repository layer's label (".tieragent.yaml"), "env TIERAGENT_...",
    or "flag". `repo_layer` replaces the work tree's file (e.g. the base's copy under review). A leaf is
    attributed only to a layer that set that very key: a tier given by a file with just a model
    still takes its other fields from the defaults.
    """
    environ = dict(os.environ) if environ is None else environ
    merged: dict[str, Any] = {}
    origins: Origins = {}
    user_file = user_file if user_file is not None else user_config_path()
    if config_file_exists(user_file, str(user_file)):
        merge(merged, parse_layer(read_layer_text(user_file, str(user_file)), str(user_file)), str(user_file), origins)
    repo = repo_layer if repo_layer is not None else read_repo_layer(repo_root)
    if repo.text is not None:
        merge(merged, parse_layer(repo.text, repo.label), repo.label, origins)
    for source, layer in env_layers(environ):
        merge(merged, layer, source, origins)
    if overrides:
        merge(merged, overrides, _OVERRIDES_LABEL, origins)
    try:
        cfg = Config.model_validate(merged)
    except ValidationError as e:
        # an unknown key first: a typo (`modle:`) also makes the real key "missing", which says less
        errors = sorted(e.errors(), key=lambda err: err.get("type") != "extra_forbidden")
        err = errors[0]
        loc = tuple(str(p) for p in err["loc"])
        raise ConfigError(source_of(loc, origins), ".".join(loc), error_reason(err, Config)) from None
    # `validation:` is accepted for `validate:`; sources use the alias, like the dump
    by_key = {(("validate", *k[1:]) if k[:1] == ("validation",) else k): v for k, v in origins.items()}
    sources = {
        key: FLAG_SOURCE if src == _OVERRIDES_LABEL else src
        for key, src in (
            (k, by_key.get(tuple(k.split(".")), DEFAULT_SOURCE)) for k in flatten_leaves(cfg.model_dump(by_alias=True))
        )
    }
    return cfg, sources


def flatten_leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"tiers": {"mid": {"model": "x"}}} -> {"tiers.mid.model": "x"}; lists and None are leaves, {} too."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten_leaves(value, dotted + "."))
        else:
            out[dotted] = value
    return out


NO_MODEL_HINT = """\
Set a model for each tier in .tieragent.yaml (or in {user}):

  tiers:
    small:    {{model: openai/gpt-5-nano}}
    mid:      {{model: anthropic/claude-sonnet-4-5}}
    frontier: {{model: anthropic/claude-opus-4-5}}

or with env vars: TIERAGENT_TIERS__SMALL__MODEL, TIERAGENT_TIERS__MID__MODEL, TIERAGENT_TIERS__FRONTIER__MODEL.
Provider keys come from the usual variables (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) or a tier's api_key_env.
To see the whole pipeline without any key, run: tieragent demo"""


def require_models(cfg: Config, environ: dict[str, str] | None = None, *, check_keys: bool = True) -> None:
    """Commands that call models need all three tiers, and (`check_keys`) every named key variable set."""
    environ = dict(os.environ) if environ is None else environ
    missing = [t for t in TIERS if getattr(cfg.tiers, t) is None]
    if len(missing) == len(TIERS):
        raise UsageError("no model configured", hint=NO_MODEL_HINT.format(user=user_config_path()))
    if missing:
        raise UsageError(
            f"tiers.{missing[0]}: missing (configured: {', '.join(t for t in TIERS if t not in missing)})",
            hint=NO_MODEL_HINT.format(user=user_config_path()),
        )
    for t in TIERS if check_keys else ():
        env_name = cfg.tier(t).api_key_env
        if env_name and not environ.get(env_name):
            raise UsageError(
                f"tiers.{t}.api_key_env: the variable {env_name} is not set",
                hint=f"export {env_name}=... (the key for {cfg.tier(t).model}), or remove api_key_env.",
            )
