"""`tieragent doctor`'s checks of the commands a run uses: the test and lint commands (configured or
detected, and runnable here), the variables they are given, and the baseline they would judge against."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from .doctor_checks import FAIL, OK, WARN, Check, Emit

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
