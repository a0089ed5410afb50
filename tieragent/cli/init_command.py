"""`tieragent init`: write a `.tieragent.yaml` that works, so the first run is not a config error.

The file names a model per tier (from a preset) and the repository's test and lint commands
(detected, with the evidence as a comment, so a wrong guess is easy to spot and fix). It never
holds a key: keys stay in the environment, and the file says which variable each preset reads.
Nothing here imports litellm: `init` is quick and works without any key.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.config import REPO_CONFIG_NAME, Config
from ..core.errors import UsageError
from ..core.vocab import TIERS, Tier

ROLE: dict[Tier, str] = {
    "small": "classify, summarize, commit messages, review triage",
    "mid": "writes most patches, reviews low and medium risk hunks",
    "frontier": "called when a cheaper patch fails, or first for high-risk work",
}


@dataclass(frozen=True)
class TierPreset:
    model: str
    why: str  # one line, written as the model's comment
    extra: dict[str, Any] = field(default_factory=dict)  # api_base, price, max_context


@dataclass(frozen=True)
class Preset:
    title: str
    keys: tuple[str, ...]  # the variables its cloud tiers read their keys from
    tiers: dict[Tier, TierPreset]


FREE = {"input_per_mtok": 0, "output_per_mtok": 0}
OLLAMA = "http://127.0.0.1:11434"

# litellm ids, all in litellm's bundled price map (except the local models, priced at 0 here).
PRESETS: dict[str, Preset] = {
    "openai": Preset(
        "OpenAI: GPT-5 nano / mini / GPT-5",
        ("OPENAI_API_KEY",),
        {
            "small": TierPreset("openai/gpt-5-nano", "the cheapest GPT-5: plenty for short structured answers"),
            "mid": TierPreset("openai/gpt-5-mini", "a strong coder at a fifth of GPT-5's price"),
            "frontier": TierPreset("openai/gpt-5", "OpenAI's flagship, for what the cheaper tiers could not do"),
        },
    ),
    "anthropic": Preset(
        "Anthropic: Claude Haiku / Sonnet / Opus 4.5",
        ("ANTHROPIC_API_KEY",),
        {
            "small": TierPreset("anthropic/claude-haiku-4-5", "fast and cheap, good at following a format"),
            "mid": TierPreset("anthropic/claude-sonnet-4-5", "Anthropic's workhorse for code"),
            "frontier": TierPreset("anthropic/claude-opus-4-5", "Anthropic's strongest model"),
        },
    ),
    "gemini": Preset(
        "Google Gemini 2.5: Flash-Lite / Flash / Pro",
        ("GEMINI_API_KEY",),
        {
            "small": TierPreset("gemini/gemini-2.5-flash-lite", "the cheapest Gemini, with a 1M-token window"),
            "mid": TierPreset("gemini/gemini-2.5-flash", "fast and capable at a low price"),
            "frontier": TierPreset("gemini/gemini-2.5-pro", "Google's strongest 2.5 model"),
        },
    ),
    "mixed": Preset(
        "OpenAI small, Anthropic mid and frontier",
        ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
        {
            "small": TierPreset("openai/gpt-5-nano", "the cheapest capable small model"),
            "mid": TierPreset("anthropic/claude-sonnet-4-5", "a strong patch writer"),
            "frontier": TierPreset("anthropic/claude-opus-4-5", "the strongest model, used least"),
        },
    ),
    "local": Preset(
        "Ollama on this machine for small and mid, GPT-5 as the frontier",
        ("OPENAI_API_KEY",),
        {
            "small": TierPreset(
                "ollama_chat/qwen2.5-coder:7b",
                "runs on a laptop GPU (ollama pull qwen2.5-coder:7b)",
                {"api_base": OLLAMA, "price": FREE, "max_context": 32768},
            ),
            "mid": TierPreset(
                "ollama_chat/qwen2.5-coder:32b",
                "needs about 20 GB of (V)RAM (ollama pull qwen2.5-coder:32b)",
                {"api_base": OLLAMA, "price": FREE, "max_context": 32768},
            ),
            "frontier": TierPreset("openai/gpt-5", "a cloud model for what the local ones could not do"),
        },
    ),
}

# provider key variable -> the preset that needs only it (GOOGLE_API_KEY: litellm reads it for Gemini too)
PROVIDER_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("openai", ("OPENAI_API_KEY",)),
    ("anthropic", ("ANTHROPIC_API_KEY",)),
    ("gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
)


def preset_from_environment(environ: dict[str, str]) -> tuple[str, str]:
    """(preset, why) with no one to ask: the provider whose key is set, else openai."""
    have = [
        (name, next(v for v in names if environ.get(v)))
        for name, names in PROVIDER_KEYS
        if any(environ.get(v) for v in names)
    ]
    found = dict(have)
    if "openai" in found and "anthropic" in found:
        return "mixed", "OPENAI_API_KEY and ANTHROPIC_API_KEY are both set"
    if have:
        name, var = have[0]
        why = f"{var} is set"
        if len(have) > 1:
            why += f" (so is {', '.join(v for _, v in have[1:])}; the first of openai, anthropic, gemini wins)"
        return name, why
    return (
        "openai",
        "no provider key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY), and openai is the default",
    )


def ask_preset(default: str, console: Any) -> str:
    """A numbered menu on the terminal; Enter takes `default` (the one the environment suggests)."""
    from rich.prompt import Prompt

    names = list(PRESETS)
    console.print("Which models should the tiers (small / mid / frontier) use?")
    for n, name in enumerate(names, 1):
        p = PRESETS[name]
        console.print(f"  {n}. {name:<10} {p.title}  [dim]({' + '.join(p.keys)})[/]")
    answer = Prompt.ask(
        "Preset",
        choices=[str(n) for n in range(1, len(names) + 1)] + names,
        default=str(names.index(default) + 1),
        console=console,
        show_choices=False,
    )
    return answer if answer in PRESETS else names[int(answer) - 1]


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when it reads back the same, else a JSON string (valid YAML)."""
    text = value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    try:
        same = yaml.safe_load(f"k: {text}") == {"k": value}
    except yaml.YAMLError:
        same = False
    return text if same else json.dumps(value)


def render_config(preset_name: str, detected: Any, why: str) -> str:
    """The text of `.tieragent.yaml`: a header with the next step, the tiers, then the commands."""
    preset = PRESETS[preset_name]
    lines = [
        f"# tieragent configuration, written by `tieragent init` with the {preset_name} preset: {why}.",
        "# Next step: run `tieragent doctor` to check the models, their keys and the test command.",
        "# Layers, later wins: defaults < your user file < this file < TIERAGENT_* env vars < flags.",
        f"# Keys are read from the environment, never from this file: this preset needs {' and '.join(preset.keys)}.",
        "",
        "tiers:",
    ]
    for tier in TIERS:
        t = preset.tiers[tier]
        lines += [f"  {tier}:  # {ROLE[tier]}", f"    model: {_scalar(t.model)}  # {t.why}"]
        for key, value in t.extra.items():
            note = {
                "api_base": "  # a local Ollama; any OpenAI-compatible server works too",
                "price": "  # free: the ledger shows $0, not '?'",
                "max_context": "  # Ollama's default is smaller: run it with OLLAMA_CONTEXT_LENGTH=32768",
            }.get(key, "")
            lines.append(f"    {key}: {_scalar(value)}{note}")
    lines += ["", "validate:"]
    for kind, command in (("test", detected.test), ("lint", detected.lint)):
        lines.append(f"  # {kind}: {detected.explain(kind)}")
        if command:
            lines.append(f"  {kind}: {_scalar(command)}")
        elif kind == "test":
            lines.append(
                "  # test: make check   # set the command that runs your tests: fix accepts a patch only when they pass"
            )
        else:
            lines.append("  # lint: ruff check .   # optional: new problems in changed files reject a patch")
    lines += [
        "  timeout_s: 600  # seconds each command may run",
        "",
        "budget:",
        "  max_cost_usd: 2.0  # a run stops (exit 3) before a call that could pass this",
        "",
    ]
    return "\n".join(lines)


def run_init(
    directory: Path,
    preset: str | None,
    force: bool,
    *,
    interactive: bool,
    out: Any,
    err: Any,
    environ: dict[str, str] | None = None,
) -> Path:
    """Write the file and say what was written; UsageError (exit 2) for every refusal."""
    from ..judge.detect import detect_commands
    from ..repo.workspace import GitWorkspace

    environ = dict(os.environ) if environ is None else environ
    if preset is not None and preset not in PRESETS:
        raise UsageError(f"--preset {preset!r}: unknown preset", hint=f"Use one of: {', '.join(PRESETS)}.")
    ws = GitWorkspace.open(Path(directory).resolve())
    path = ws.root / REPO_CONFIG_NAME
    if path.exists() and not force:
        raise UsageError(f"{path} exists already", hint="Edit it, or pass --force to replace it.")
    if preset is not None:
        name, why = preset, "asked for with --preset"
    else:
        suggested, reason = preset_from_environment(environ)
        if interactive:
            name = ask_preset(suggested, out)
            why = "chosen at the prompt"
        else:
            name, why = suggested, reason
            err.print(
                f"No --preset and no terminal to ask: using the {name} preset, because {reason}.",
                soft_wrap=True,
                markup=False,
            )
    detected = detect_commands(ws.root)
    text = render_config(name, detected, why)
    load_config_text_check(text)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot write it ({e.strerror})") from None
    models = ", ".join(f"{t} {PRESETS[name].tiers[t].model}" for t in TIERS)
    out.print(f"Wrote {path} ({name} preset: {models})", soft_wrap=True, markup=False)
    for kind in ("test", "lint"):
        command = getattr(detected, kind)
        out.print(
            f"  {kind}: {command}  ({detected.explain(kind)})" if command else f"  {kind}: {detected.explain(kind)}",
            soft_wrap=True,
            markup=False,
        )
    unset = [k for k in PRESETS[name].keys if not environ.get(k)]
    if unset:
        out.print(f"  needs {' and '.join(unset)} in the environment (not set now)", soft_wrap=True, markup=False)
    out.print(
        "Next: run `tieragent doctor` to check the models, the keys and the test command.", soft_wrap=True, markup=False
    )
    return path


def load_config_text_check(text: str) -> None:
    """The written file must load: a preset or a detected command that breaks it is a bug, caught
    before the file is written (pydantic's error, an internal error, rather than a broken file)."""
    Config.model_validate(yaml.safe_load(text))


def stdin_and_stdout_are_terminals() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
