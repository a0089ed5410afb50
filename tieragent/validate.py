"""The repository's own tests and linters judge every patch.

Commands run in the user's tree, on the patched files, so an editable install imports the
patched code. A patch validates when the test command and the lint command (if any) pass.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .runner import CommandResult, CommandRunner

FEEDBACK_MAX_LINES = 120
FEEDBACK_MAX_CHARS = 6000


def _python() -> str:
    return "python" if shutil.which("python") else "python3"


def detect_test_command(root: Path) -> str | None:
    """The usual test command for the project's layout, or None when nothing suggests one."""
    py_markers = ("pytest.ini", "conftest.py", "tox.ini")
    pyproject = root / "pyproject.toml"
    if (
        any((root / m).exists() for m in py_markers)
        or (pyproject.exists() and "pytest" in pyproject.read_text(errors="replace"))
        or (root / "tests").is_dir()
        or any(root.glob("test_*.py"))
        or any(root.glob("*/test_*.py"))
    ):
        return f"{_python()} -m pytest -q"
    pkg = root / "package.json"
    if pkg.exists():
        try:
            if json.loads(pkg.read_text()).get("scripts", {}).get("test"):
                return "npm test --silent"
        except ValueError:
            pass
    if (root / "go.mod").exists():
        return "go test ./..."
    if (root / "Cargo.toml").exists():
        return "cargo test --quiet"
    makefile = root / "Makefile"
    if makefile.exists() and "\ntest:" in "\n" + makefile.read_text(errors="replace"):
        return "make test"
    return None


def trim_output(output: str, max_lines: int = FEEDBACK_MAX_LINES, max_chars: int = FEEDBACK_MAX_CHARS) -> str:
    """The end of a log is where test runners put failures and summaries: keep the tail."""
    lines = output.rstrip().splitlines()
    cut = len(lines) > max_lines
    lines = lines[-max_lines:]
    text = "\n".join(lines)
    if len(text) > max_chars:
        text, cut = text[-max_chars:], True
    return ("[... earlier output cut ...]\n" if cut else "") + text


@dataclass(frozen=True)
class Validation:
    outcome: str  # ok | tests-failed | lint-failed
    test: CommandResult | None
    lint: CommandResult | None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def failed_result(self) -> CommandResult | None:
        return {"tests-failed": self.test, "lint-failed": self.lint}.get(self.outcome)

    def reason(self) -> str:
        r = self.failed_result()
        if r is None:
            return ""
        if r.timed_out:
            return f"`{r.command}` timed out after {r.seconds:.0f}s"
        return f"`{r.command}` exited {r.exit_code}"

    def to_json(self) -> dict:
        def one(r: CommandResult | None) -> dict | None:
            if r is None:
                return None
            return {
                "command": r.command,
                "exit_code": r.exit_code,
                "timed_out": r.timed_out,
                "seconds": round(r.seconds, 3),
                "output_tail": trim_output(r.output, 40, 3000),
            }

        return {"ok": self.ok, "outcome": self.outcome, "test": one(self.test), "lint": one(self.lint)}


def validate(runner: CommandRunner, root: Path, test_cmd: str, lint_cmd: str | None, timeout_s: float) -> Validation:
    test = runner.run(test_cmd, root, timeout_s)
    if not test.ok:
        return Validation("tests-failed", test, None)
    lint = runner.run(lint_cmd, root, timeout_s) if lint_cmd else None
    if lint is not None and not lint.ok:
        return Validation("lint-failed", test, lint)
    return Validation("ok", test, lint)
