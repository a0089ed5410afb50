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
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import ProviderError, TieragentError
from ..core.vocab import TIERS

if TYPE_CHECKING:
    from ..core.config import Config, ProviderConfig, TierConfig
    from ..core.vocab import Tier
    from ..model.protocol import Provider

OK, WARN, FAIL = "ok", "warn", "fail"
PING_TIMEOUT_S = 30.0  # a ping that takes longer is as good as a failure
SHELL_WORDS = {
    "cd",
    "exec",
    "env",
    "source",
    ".",
    "export",
    "set",
    "true",
    "test",
    "[",
    "eval",
    "if",
    "for",
    "while",
    "(",
}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "hint": self.hint}


Emit = Callable[[Check], None]


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
    if ws.git("rev-parse", "--is-shallow-repository", check=False).decode().strip() == "true":
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
        price = tc.price or provider.known_price(t)
        if price is None:
            add(
                Check(
                    f"{t} price",
                    WARN,
                    f"no known price for {tc.model}: the ledger will show '?' for its calls",
                    f"Set tiers.{t}.price: {{input_per_mtok: ..., output_per_mtok: ...}} (USD per million tokens).",
                )
            )
        else:
            where = f"tiers.{t}.price" if tc.price else "litellm's price map"
            add(
                Check(
                    f"{t} price",
                    OK,
                    f"${price.input_per_mtok:g} in / ${price.output_per_mtok:g} out per Mtok ({where})",
                )
            )
        window = tc.max_context or provider.context_window(t)
        if window is None:
            add(
                Check(
                    f"{t} context window",
                    WARN,
                    f"unknown for {tc.model}: a 32,000-token window is assumed",
                    f"Set tiers.{t}.max_context to the model's window in tokens.",
                )
            )
        else:
            where = f"tiers.{t}.max_context" if tc.max_context else "litellm's model map"
            add(Check(f"{t} context window", OK, f"{window:,} tokens ({where})"))
        if ping:
            add(ping_check(t, tc, environ, settings))


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


# ---------------------------------------------------------------- commands


def executable_problem(command: str, root: Path | None) -> str | None:
    """Why the command's program cannot be found, or None: `shutil.which` of the first word, or a path."""
    try:
        words = shlex.split(command)
    except ValueError as e:
        return f"cannot be split into words: {e}"
    words = [w for w in words if not ("=" in w and w.split("=")[0].isidentifier())] or [""]  # FOO=1 cmd
    program = words[0]
    if not program:
        return "is empty"
    if program in SHELL_WORDS:
        return None  # a shell construct: the shell will tell
    if "/" in program:
        p = Path(program) if Path(program).is_absolute() or root is None else root / program
        return None if p.is_file() and os.access(p, os.X_OK) else f"{program} does not exist or is not executable"
    return None if shutil.which(program) else f"{program} is not on PATH"


def command_checks(cfg: Any, sources: dict[str, str], ws: Any, baseline: bool, add: Emit) -> None:
    from ..judge.detect import detect_commands

    detected = detect_commands(ws.root) if ws is not None else None
    runnable = None
    for kind in ("test", "lint"):
        configured = getattr(cfg.validation, kind)
        command = configured or (getattr(detected, kind) if detected else None)
        name = f"{kind} command"
        if not command:
            if kind == "test":
                add(
                    Check(
                        name,
                        FAIL,
                        "none configured, and none detected: fix accepts a patch only when the tests pass",
                        "Set validate.test in .tieragent.yaml (e.g. `validate: {test: make check}`).",
                    )
                )
            else:
                add(Check(name, OK, "none (optional: a lint command rejects patches that add problems)"))
            continue
        where = (
            f"validate.{kind} from {sources.get(f'validate.{kind}', 'default')}"
            if configured or detected is None  # a command that is not configured was detected
            else detected.explain(kind)
        )
        problem = executable_problem(command, ws.root if ws else None)
        if problem:
            add(
                Check(
                    name,
                    FAIL,
                    f"`{command}` ({where}): {problem}",
                    f"Install it, or set validate.{kind} in .tieragent.yaml to a command that exists here.",
                )
            )
            continue
        add(Check(name, OK, f"`{command}` ({where})"))
        if kind == "test":
            runnable = command
    if baseline and runnable and ws is not None:
        from .wiring import validation_runner

        # the environment fix gives the tests (validate.env, env_passthrough): with less, they might fail only here
        add(
            baseline_check(
                runnable,
                cfg.validation.timeout_s,
                ws,
                cfg.validation.junit_xml,
                validation_runner(cfg),
                lint=cfg.validation.lint,
                key_names=[
                    c.api_key_env for c in (cfg.tiers.small, cfg.tiers.mid, cfg.tiers.frontier) if c and c.api_key_env
                ],
            )
        )


def environment_check(cfg: Any, environ: dict[str, str]) -> Check:
    """Which variables the test and lint commands see (names only, never values)."""
    from ..repo.runner import passed_names

    allowed, passed, dropped = passed_names(environ, cfg.validation.env_passthrough)
    detail = "passes " + (", ".join(allowed) or "nothing")
    extra = [f"env_passthrough: {', '.join(passed)}"] if passed else []
    extra += [f"validate.env: {', '.join(cfg.validation.env)}"] if cfg.validation.env else []
    detail += f" (+ {'; '.join(extra)})" if extra else ""
    return Check("command environment", OK, f"{detail}; drops {dropped} other(s)")


def baseline_check(
    command: str,
    timeout_s: float,
    ws: Any,
    junit_xml: str | None = None,
    runner: Any = None,
    *,
    lint: str | None = None,
    key_names: list[str] | None = None,
) -> Check:
    """Run the tests once, as `fix` would for its baseline; fail when they cannot judge a patch. Says
    too whether fix would reuse its stored baseline here (the same tree and environment) or run it again."""
    from ..judge.validation import Validator
    from ..model.redact import Redactor
    from ..repo.runner import SubprocessRunner

    mask = Redactor.from_environment(extra_names=tuple(key_names or ())).at_rest
    validator = Validator(
        runner or SubprocessRunner(), ws.root, ws.state_dir, command, lint, timeout_s, junit_xml=junit_xml, mask=mask
    )
    cached = validator.cached_baseline_state(ws.tree_fingerprint())
    check = _judge_baseline(validator, command, timeout_s)
    if cached == "stale":
        return replace(
            check,
            detail=check.detail
            + "; fix's stored baseline was taken with another tree or environment: fix runs it again",
        )
    return check


def _judge_baseline(validator: Any, command: str, timeout_s: float) -> Check:
    from ..judge.testresults import unusable_baseline
    from ..judge.validation import output_tail

    run = validator.run_tests()
    r = run.result
    hint = (
        "Make validate.test a command that runs your tests here (try it in a shell), or pass --no-baseline to "
        "skip this check."
    )
    if r.timed_out:
        return Check(
            "baseline",
            FAIL,
            f"`{command}` did not finish in {timeout_s:g} s",
            "Raise validate.timeout_s, or point validate.test at a quicker subset of the tests.",
        )
    why = unusable_baseline(run, repro=False)
    if why:
        return Check("baseline", FAIL, why, hint)
    took = f"{r.seconds:.1f} s"
    if run.cases is not None:
        failed = len(run.failing)
        if failed:
            return Check(
                "baseline",
                WARN,
                f"{_tests(len(run.cases))} ran, {failed} failed ({took}): fix treats them as failing before any patch",
                "Expected when you are about to fix them; otherwise fix the tests first.",
            )
        return Check("baseline", OK, f"{_tests(len(run.cases))} ran, none failed ({took})")
    if r.exit_code == 0:
        return Check("baseline", OK, f"`{command}` passed ({took}; this runner gives no per-test results)")
    # as `fix` decides: a red run without per-test results cannot tell a fix from a regression
    said = output_tail(r)
    return Check(
        "baseline",
        FAIL,
        f"`{command}` exited {r.exit_code} ({took}"
        + (f", ending: {said}" if said else "")
        + f") and gives no per-test results: fix would stop here ({validator.why_no_per_test(run)})",
        "Set validate.junit_xml to the JUnit XML your runner writes, point validate.test at a narrower command "
        "that passes now, or run fix with --exit-code-only.",
    )


def _tests(n: int) -> str:
    return f"{n} test" if n == 1 else f"{n} tests"


# ---------------------------------------------------------------- output

SYMBOL = {OK: "[green]✓[/]", WARN: "[yellow]![/]", FAIL: "[red]✗[/]"}


def printer(console: Any) -> Emit:
    """One line per check (and its hint, indented, when it did not pass)."""
    from rich.markup import escape

    def emit(c: Check) -> None:
        console.print(f"{SYMBOL[c.status]} [bold]{escape(c.name)}[/]: {escape(c.detail)}", soft_wrap=True)
        if c.hint:
            console.print(f"    {escape(c.hint)}", soft_wrap=True, style="dim")

    return emit


def summary(checks: list[Check]) -> tuple[bool, str]:
    failed = [c for c in checks if c.status == FAIL]
    warned = [c for c in checks if c.status == WARN]
    if failed:
        return False, f"{len(failed)} check(s) failed" + (f", {len(warned)} warning(s)" if warned else "") + "."
    return True, "Everything needed is in place" + (f" ({len(warned)} warning(s))." if warned else ".")
