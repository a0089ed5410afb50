"""`tieragent doctor`: everything a run needs, checked one line at a time, each failure with its fix.

A first run that dies on a missing key, a test command that does not exist or a half-done merge
teaches nothing; doctor finds all of those at once, without touching a file or spending a cent
(except `--ping`: one token per tier). A check that cannot run because an earlier one failed
(the config does not load) is reported as skipped, never as a crash.

Key values are never printed: only the NAMES of the variables, and whether they are set.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import ProviderError, TieragentError
from ..core.vocab import TIERS
from .doctor_checks import FAIL, OK, WARN, Check, Emit
from .doctor_commands import command_checks, environment_check

if TYPE_CHECKING:
    from ..core.config import Config, ProviderConfig, TierConfig
    from ..core.vocab import Effort, Tier
    from ..model.protocol import Provider

PING_TIMEOUT_S = 30.0  # a ping that takes longer is as good as a failure


def run_doctor(
    directory: Path, *, ping: bool, baseline: bool, emit: Emit, environ: dict[str, str] | None = None
) -> list[Check]:
    """Every check, in order, each passed to `emit` as soon as it is known (the baseline is slow)."""
    from ..repo.workspace import GitWorkspace

    environ = dict(os.environ) if environ is None else environ
    checks: list[Check] = []

    def add(c: Check) -> None:
        checks.append(c)
        emit(c)

    ws, repo_problem = None, None
    try:
        ws = GitWorkspace.open(Path(directory).resolve())
    except TieragentError as e:
        repo_problem = Check("git repository", FAIL, e.message, e.hint)
    cfg, sources, untrusted = config_check(ws, environ, add)
    if repo_problem is not None:
        add(repo_problem)
    else:
        for c in git_checks(ws):
            add(c)
    if cfg is None:
        for name in ("tiers", "test command"):
            add(
                Check(
                    name,
                    WARN,
                    "skipped: the config does not load",
                    "Fix the config error above, then run tieragent doctor again.",
                )
            )
        return checks
    # litellm may print when it meets an unknown model: never onto stdout, which --json owns
    with contextlib.redirect_stdout(sys.stderr):
        tier_checks(cfg, environ, ping and not untrusted, add)
    if ping and untrusted:
        add(
            Check(
                "ping",
                FAIL,
                "not sent: the repository's config names key variables and is not trusted yet",
                "Run tieragent fix or review on a terminal to be asked once, or pass them --trust-config; then "
                "ping again.",
            )
        )
    command_checks(cfg, sources, ws, baseline, add)
    add(environment_check(cfg, environ))
    return checks


# ---------------------------------------------------------------- config


def config_check(ws: Any, environ: dict[str, str], add: Emit) -> tuple[Any, dict[str, str], bool]:
    """The config loads; the detail names every layer that exists, in the order they apply. Then which
    layer each setting that routes keys or chooses commands came from, and whether it is trusted."""
    from ..core.config import load_config_with_sources, user_config_path
    from ..core.config_layers import ENV_PREFIX, ENV_SEPARATOR
    from .config_trust import load_trusted_config

    user = user_config_path()
    try:
        if ws is None:
            cfg, sources = load_config_with_sources(None, environ=environ, user_file=user)
            loaded = None
        else:
            loaded = load_trusted_config(ws, environ=environ, check_trust=False)
            cfg, sources = loaded.config, loaded.sources
    except TieragentError as e:
        add(
            Check(
                "config",
                FAIL,
                e.message,
                e.hint or "Fix that value (or remove it to take the default), then run tieragent doctor again.",
            )
        )
        return None, {}, False
    layers = ["defaults"] + ([str(user)] if user.is_file() else [])
    if loaded is not None and loaded.trust != "none":
        layers.append(loaded.repo_label)
    layers += [f"env {n}" for n in sorted(environ) if n.startswith(ENV_PREFIX) and ENV_SEPARATOR in n]
    hint = None if len(layers) > 1 else "No config file: run `tieragent init` to write .tieragent.yaml."
    add(Check("config", OK, "loads: " + " < ".join(layers), hint))
    if loaded is not None:
        add(trust_check(loaded))
    return cfg, sources, loaded is not None and loaded.trust == "not trusted yet"


def trust_check(loaded: Any) -> Check:
    """Where the settings that route keys and choose commands come from (core/trust.py's GUARDED)."""
    from ..core.trust import guarded_sources

    guarded = guarded_sources(loaded.sources)
    listing = "; ".join(f"{k} from {v}" for k, v in guarded.items()) or "all defaults"
    notes = "; ".join(loaded.warnings)
    detail = f"key routing and commands: {listing}; repository config: {loaded.trust}" + (f"; {notes}" if notes else "")
    if loaded.trust == "not trusted yet":
        return Check(
            "trust", WARN, detail, "fix and review ask once on a terminal (or take --trust-config) before using it."
        )
    return Check("trust", OK, detail)


# ---------------------------------------------------------------- git

# how to finish or abort each operation `GitWorkspace.operation_in_progress` names (and a bisect)
FINISH = {
    "a merge": ("git merge --continue", "git merge --abort"),
    "a rebase": ("git rebase --continue", "git rebase --abort"),
    "a rebase or git am": ("git rebase --continue or git am --continue", "git rebase --abort or git am --abort"),
    "a cherry-pick": ("git cherry-pick --continue", "git cherry-pick --abort"),
    "a revert": ("git revert --continue", "git revert --abort"),
    "a bisect": ("git bisect good/bad to the end", "git bisect reset"),
}


def git_checks(ws: Any) -> list[Check]:
    out = []
    head = ws.git("rev-parse", "--verify", "-q", "HEAD", check=False).decode().strip()
    branch = ws.git("symbolic-ref", "-q", "--short", "HEAD", check=False).decode().strip() or "detached HEAD"
    if head:
        out.append(Check("git repository", OK, f"{ws.root} ({branch} at {head[:8]})"))
    else:
        # fix and review work without a commit (the journal restores files; review sees every file as new)
        out.append(
            Check(
                "git repository",
                WARN,
                f"{ws.root} has no commits yet ({branch}): fix and review work, every file counts as new",
                "Commit once (git add -A && git commit -m initial) so that review --base and commits have a history.",
            )
        )
    what = ws.operation_in_progress()
    if what is None and (Path(ws.git("rev-parse", "--absolute-git-dir").decode().strip()) / "BISECT_LOG").exists():
        what = "a bisect"  # fix does not refuse one, but its patches would be judged on a commit bisect picked
    if what:
        cont, abort = FINISH.get(what, ("finish it", "abort it"))
        why = (
            "patches would be made on the commit bisect checked out"
            if what == "a bisect"
            else "fix refuses to start in the middle of one"
        )
        out.append(
            Check(
                "git state", FAIL, f"{what} is in progress", f"Finish it ({cont}) or abort it ({abort}) first: {why}."
            )
        )
    else:
        out.append(Check("git state", OK, "no merge, rebase, cherry-pick, revert or bisect in progress"))
    if ws.is_shallow():
        out.append(
            Check(
                "git history",
                WARN,
                "a shallow clone: `review --base` needs the history back to the merge-base",
                "git fetch --unshallow",
            )
        )
    out.append(journal_check(ws.state_dir / "journal"))
    return out


def journal_check(journals: Path) -> Check:
    """Files a killed run left changed; taken under the runs' lock, so a live run's journal is only reported."""
    from ..repo.journal import RunInProgress, journal_lock, stale_journals

    try:
        with journal_lock(journals) if journals.is_dir() else contextlib.nullcontext():
            stale = stale_journals(journals)
    except RunInProgress as busy:
        return Check(
            "recovery journal",
            WARN,
            f"a run (pid {busy.pid}) is in progress: its journal is left alone",
            "Run doctor again when it has finished to check for files a killed run left behind.",
        )
    if stale:
        return Check(
            "recovery journal",
            FAIL,
            f"a run that was killed left files changed ({len(stale)} journal(s): {stale[0].name})",
            "Run `tieragent recover` to put them back (or `tieragent recover --discard` to keep them as they are).",
        )
    return Check("recovery journal", OK, "no killed run left files behind")


# ---------------------------------------------------------------- tiers


def tier_checks(cfg: Config, environ: dict[str, str], ping: bool, add: Emit) -> None:
    configured = {t: getattr(cfg.tiers, t) for t in TIERS if getattr(cfg.tiers, t) is not None}
    for t in TIERS:
        if t not in configured:
            add(
                Check(
                    f"{t} tier",
                    FAIL,
                    f"no model: tiers.{t}.model is not set",
                    f"Run `tieragent init`, or set tiers.{t}.model in .tieragent.yaml (or "
                    f"TIERAGENT_TIERS__{t.upper()}__MODEL).",
                )
            )
    if not configured:
        return
    from ..model.protocol import Carrier
    from ..model.providers import real_provider

    settings = cfg.provider.model_copy(update={"retries": 0})
    for t, tc in configured.items():
        provider: Provider = real_provider({t: tc}, settings, environ=dict(environ))
        try:
            provider.preflight(check_keys=False)
        except TieragentError as e:
            add(Check(f"{t} tier", FAIL, e.message, e.hint))
            continue
        via = "direct HTTP" if provider.carriers()[t] is Carrier.HTTP else "through litellm"
        add(Check(f"{t} tier", OK, f"{tc.model} ({via})"))
        add(key_check(t, tc, provider))
        add(settings_check(t, tc, {str(k): v for k, v in cfg.routing.reasoning_effort.items()}))
        add(price_check(t, tc, provider))
        add(window_check(t, tc, provider))
        if ping:
            add(ping_check(t, tc, environ, settings))


def settings_check(t: Tier, tc: TierConfig, by_class: dict[str, Effort]) -> Check:
    """Which reasoning efforts the tier's model takes and in which form, and whether it takes a temperature."""
    from ..model.reasoning import describe_settings

    report = describe_settings(tc.model, tc.reasoning_effort, tc.temperature, by_class)
    if report.problem:
        hint = (report.hint or "").replace("<tier>", t)
        return Check(f"{t} settings", WARN, f"{report.problem}; {report.detail}", hint)
    return Check(f"{t} settings", OK, report.detail)


def key_check(t: Tier, tc: TierConfig, provider: Provider) -> Check:
    """The variable's NAME and whether it is set; a tier with api_base may need no key (a warning)."""
    ks = provider.key_status(t)
    name = f"{t} key"
    if ks.present:
        return Check(name, OK, f"{' and '.join(ks.present)} {'is' if len(ks.present) == 1 else 'are'} set")
    if not ks.variables:
        if ks.needs_key:
            return Check(name, OK, "litellm finds the provider's key in the environment")
        return Check(name, OK, f"no key needed ({tc.api_base or 'the provider takes none'})")
    names = " or ".join(ks.variables)
    fix = f"export {ks.variables[0]}=... (the key for {tc.model})"
    if not tc.api_key_env:
        fix += f", or set tiers.{t}.api_key_env to the NAME of the variable that holds it"
    if tc.api_base and not tc.api_key_env:
        return Check(
            name,
            WARN,
            f"{names} is not set; with api_base {tc.api_base}, the endpoint may need no key",
            f"If it does: {fix}.",
        )
    return Check(name, FAIL, f"{names} is not set", fix + ".")


def price_check(t: Tier, tc: TierConfig, provider: Provider) -> Check:
    """The price the ledger uses for the tier, and where it comes from."""
    price = tc.price or provider.known_price(t)
    if price is None:
        return Check(
            f"{t} price",
            WARN,
            f"no known price for {tc.model}: the ledger will show '?' for its calls",
            f"Set tiers.{t}.price: {{input_per_mtok: ..., output_per_mtok: ...}} (USD per million tokens).",
        )
    where = f"tiers.{t}.price" if tc.price else "litellm's price map"
    return Check(f"{t} price", OK, f"${price.input_per_mtok:g} in / ${price.output_per_mtok:g} out per Mtok ({where})")


def window_check(t: Tier, tc: TierConfig, provider: Provider) -> Check:
    """The context window prompts are fitted to, and where it comes from."""
    window = tc.max_context or provider.context_window(t)
    if window is None:
        return Check(
            f"{t} context window",
            WARN,
            f"unknown for {tc.model}: a 32,000-token window is assumed",
            f"Set tiers.{t}.max_context to the model's window in tokens.",
        )
    where = f"tiers.{t}.max_context" if tc.max_context else "litellm's model map"
    return Check(f"{t} context window", OK, f"{window:,} tokens ({where})")


def ping_check(t: Tier, tc: TierConfig, environ: dict[str, str], settings: ProviderConfig) -> Check:
    """One request of one token; reports the latency or the error's kind and message, never a key."""
    from ..core.vocab import Step
    from ..model.protocol import ModelRequest
    from ..model.providers import real_provider
    from ..model.redact import Redactor

    quick = tc.model_copy(update={"timeout_s": min(tc.timeout_s, PING_TIMEOUT_S), "max_output_tokens": 1})
    provider: Provider = real_provider({t: quick}, settings, environ=dict(environ))
    request = ModelRequest(Step.PING, t, ({"role": "user", "content": "Reply with OK."},), max_tokens=1)
    redact = Redactor.from_environment(environ)
    started = time.monotonic()
    try:
        reply = provider.complete(request)
    except TieragentError as e:
        kind = e.kind if isinstance(e, ProviderError) else "not sent"
        return Check(f"{t} ping", FAIL, redact(f"{kind}: {e.message}"), redact(e.hint) if e.hint else None)
    return Check(f"{t} ping", OK, f"{reply.model} answered in {time.monotonic() - started:.2f} s")
