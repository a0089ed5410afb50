"""`python -m tieragent.cli.bench_scripted SCRIPT fix [options]`: `tieragent fix --json` with scripted
model replies, for `tieragent bench --scripted`.

Everything but the models is the real thing, as in `tieragent demo`: the config (the bench's
generated `.tieragent.yaml`), the git checkout, the test command, patching, validation, escalation,
the journal and the ledger; it prints the document `tieragent fix --json` prints, and exits with
its code. SCRIPT is JSON written by the bench:

    {"models": {"small": "openai/gpt-5-nano", ...},        # which model answers as which tier
     "replies": {"classify": {"*": ["..."]}, "patch": {"mid": ["...", "..."], ...}}}

A request is answered by the tier whose model the run's config gives it: under `mid-only` every
tier is the mid model, so every call gets the mid tier's replies. A queue's last reply repeats.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from ..core.errors import EnvironmentProblem, ExitCode, TieragentError, UsageError
from ..core.vocab import TIERS, Tier


def scripted_provider(script: dict[str, Any], tiers: dict[Tier, Any]):
    """A ScriptedProvider whose queue for (step, tier) holds the replies of the role of that tier's model."""
    from ..model.scripted import ScriptedProvider

    role_of = {model: role for role, model in (script.get("models") or {}).items()}
    queues: dict[tuple[str, Tier], list[str | BaseException]] = {}
    for step, per_tier in (script.get("replies") or {}).items():
        for tier in TIERS:
            role = role_of.get(tiers[tier].model, tier)
            replies = per_tier.get(role) or per_tier.get("*")
            if replies:
                queues[(step, tier)] = list(replies)
    return ScriptedProvider(tiers, script=queues)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tieragent.cli.bench_scripted")
    parser.add_argument("script", type=Path)
    parser.add_argument("command", choices=["fix"])
    parser.add_argument("request", nargs="?")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--trust-config", action="store_true")  # as `fix` takes it; a scripted run calls no provider
    parser.add_argument("--request-file")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--max-cost", type=float)
    parser.add_argument("-C", dest="directory", type=Path, default=Path("."))
    return parser.parse_args(argv)


def scripted_deps(args: argparse.Namespace, environ: dict[str, str] | None = None, state_home: Path | None = None):
    """The fix flow's parts for these arguments. `environ` and `state_home` stand for the process's
    environment and XDG_STATE_HOME (None: this process's), so a caller can run the flow without a process."""
    from .common import overrides

    script = json.loads(args.script.read_text(encoding="utf-8"))
    return _deps(args.directory, overrides(args.max_cost, None, None, None, {}), script, environ, state_home)


def main(argv: list[str] | None = None) -> int:
    from .common import time_limit
    from .errors import report_error
    from .fix_command import read_request
    from .streams import print_json, status_line

    args = parse_args(argv)
    request = args.request
    try:
        request = read_request(args.request, args.request_file)
        deps = scripted_deps(args)
    except (OSError, ValueError) as err:
        return report_error(
            UsageError(f"{args.script}: cannot read the scripted replies ({err})"), True, {"request": request}
        )
    except TieragentError as err:
        return report_error(err, True, {"request": request})
    from ..flows.fix import FixOptions, run_fix

    with time_limit(args.timeout):
        result = run_fix(request, deps, FixOptions())
    print_json(result.to_json())
    status_line("fix", result.status, result.exit_code, result.error, result.cost_text())
    return int(result.exit_code)


def _deps(
    directory: Path,
    flags: dict[str, Any],
    script: dict[str, Any],
    environ: dict[str, str] | None,
    state_home: Path | None,
):
    """The fix flow's parts as `prepare_fix` builds them, with the scripted provider for the models."""
    from ..core.config import load_config, require_models
    from ..flows.fix import FixDeps
    from ..flows.format_memory import memory_file
    from ..judge.validation import detect_test_command
    from ..model.protocol import Models
    from ..repo.workspace import GitWorkspace
    from .wiring import repo_map_factory, validation_runner

    ws = GitWorkspace.open(directory)
    cfg = load_config(ws.root, overrides=flags, environ=environ)
    require_models(cfg, check_keys=False)
    test_cmd = cfg.validation.test or detect_test_command(ws.root)
    if not test_cmd:
        raise EnvironmentProblem("no test command: tieragent accepts a patch only when your tests pass")
    tiers = {t: cfg.tier(t) for t in TIERS}
    provider = scripted_provider(script, tiers)
    models = Models(provider, {t: tiers[t].price for t in TIERS}, {})
    return FixDeps(
        ws=ws,
        config=cfg,
        runner=validation_runner(cfg),
        models=lambda: models,
        repo_map=repo_map_factory(ws),
        test_command=test_cmd,
        lint_command=cfg.validation.lint,
        format_memory=memory_file(state_home),
    )


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _sigterm)  # as `tieragent` does: a stopped bench restores the checkout
    try:
        code = main()
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED
    sys.exit(int(code))
