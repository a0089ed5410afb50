"""The test and lint judges of `review --run-tests`: real git repositories, real pytest and lint runs.

Every judge call goes through `judged()`, which also checks that the user's tree is byte for byte
unchanged and that no base checkout is left behind (in `git worktree list` or on disk).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import git, make_repo, snapshot

from tieragent.judge.tree_compare import JudgeFinding, JudgeReport, judge_change
from tieragent.repo.runner import CommandResult, SubprocessRunner
from tieragent.repo.workspace import GitWorkspace

PY = f'"{sys.executable}"'
PYTEST = f"{PY} -m pytest -q"
RUNNER = SubprocessRunner(
    extra_env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
)  # this venv's plugins triple each run's time
LINT_SCRIPT = """\
import pathlib, subprocess, sys
bad = 0
listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.py"], capture_output=True, text=True)
files = listed.stdout.split()
for path in files:
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        if "TO" + "DO" in line:
            print(f"{path}:{n}:1: T100 TODO left in code")
            bad += 1
sys.exit(1 if bad else 0)
"""
LINT = f"{PY} lint.py"
OPS = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
TESTS = (
    "from calc.ops import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_sub():\n"
    "    assert sub(5, 3) == 2\n"
)
FILES = {"calc/__init__.py": "", "calc/ops.py": OPS, "tests/test_ops.py": TESTS, "lint.py": LINT_SCRIPT}


def judged(
    repo: Path,
    test_cmd: str | None,
    lint_cmd: str | None = None,
    changed: list[str] = (),
    *,
    runner=RUNNER,
    base: str = "HEAD",
    timeout_s: float = 60,
) -> JudgeReport:
    state_dir = GitWorkspace(repo).state_dir  # inside .git, as in real use
    before = snapshot(repo)
    try:
        return judge_change(runner, repo, state_dir, base, test_cmd, lint_cmd, list(changed), timeout_s)
    finally:
        assert snapshot(repo) == before, "the user's tree changed"
        assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1, (
            "a base checkout is still registered"
        )
        assert not list((state_dir / "worktrees").glob("*")), "a base checkout is still on disk"


def edit(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


def test_a_change_that_breaks_a_passing_test_is_a_high_finding_at_the_test(tmp_path):
    repo = make_repo(tmp_path / "repo", FILES)
    edit(repo, "calc/ops.py", OPS.replace("a - b", "a + b"))
    report = judged(repo, PYTEST, changed=["calc/ops.py"])
    assert report.findings == [
        JudgeFinding(
            "tests/test_ops.py",
            8,
            "high",
            "tests",
            "tests.test_ops::test_sub passed before the change and now fails: AssertionError: assert 8 == 2",
        )
    ]
    assert report.before["tests"]["failing"] == [] and report.after["tests"]["failing"] == ["tests.test_ops::test_sub"]
    assert report.notes == []


def test_a_new_failing_test_is_a_finding_and_a_new_passing_one_is_not(tmp_path):
    repo = make_repo(tmp_path / "repo", FILES)
    edit(
        repo,
        "tests/test_more.py",
        "def test_fine():\n    pass\n\n\ndef test_mul():\n    raise ValueError('not written yet')\n",
    )
    report = judged(repo, PYTEST, changed=["tests/test_more.py"])
    assert [(f.path, f.line, f.severity, f.category) for f in report.findings] == [
        ("tests/test_more.py", 5, "high", "tests")
    ]
    assert report.findings[0].message == "tests.test_more::test_mul is new and fails: ValueError: not written yet"


def test_a_test_module_that_no_longer_imports_is_one_finding_and_other_tests_still_run(tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, "tests/test_other.py": "def test_other():\n    assert True\n"})
    edit(repo, "calc/ops.py", OPS.replace("def sub", "def subtract"))
    report = judged(repo, PYTEST, changed=["calc/ops.py"])
    [finding] = report.findings
    assert (finding.path, finding.line, finding.severity) == ("tests/test_ops.py", None, "high")
    assert finding.message.startswith("tests/test_ops.py cannot be collected: ImportError: cannot import name 'sub'")
    assert report.after["tests"]["tests"] == 2  # the module's collection error, and test_other that still ran


def test_fixing_a_failing_test_is_no_finding_and_old_failures_are_not_counted(tmp_path):
    repo = make_repo(
        tmp_path / "repo", {**FILES, "calc/ops.py": OPS.replace("a + b", "a * b").replace("a - b", "a * b")}
    )
    edit(repo, "calc/ops.py", OPS.replace("a - b", "a / b"))  # fixes add; sub still fails
    report = judged(repo, PYTEST, changed=["calc/ops.py"])
    assert report.findings == []
    assert report.before["tests"]["failing"] == ["tests.test_ops::test_add", "tests.test_ops::test_sub"]
    assert report.after["tests"]["failing"] == ["tests.test_ops::test_sub"]
    assert report.notes == ["1 test(s) already failed before the change and still fail: not counted"]


def test_nothing_failing_now_needs_no_base_run(tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, "calc/ops.py": OPS.replace("a + b", "a - b")})
    edit(repo, "calc/ops.py", OPS)
    report = judged(repo, PYTEST, changed=["calc/ops.py"])
    assert report.findings == [] and report.notes == []
    assert report.before["tests"] is None and report.after["tests"]["failing"] == []


def test_a_new_lint_problem_in_a_changed_file_counts_and_old_or_untouched_ones_do_not(tmp_path):
    old = "x = 1  # TODO: old\n"
    repo = make_repo(
        tmp_path / "repo", {**FILES, "calc/ops.py": old + OPS, "calc/other.py": "y = 2  # TODO: untouched\n"}
    )
    # the same problem again, added above the old one: the added line is the new one
    edit(repo, "calc/ops.py", "z = 0  # TODO: new\n" + old + OPS)
    report = judged(repo, None, LINT, changed=["calc/ops.py"])
    assert report.findings == [
        JudgeFinding("calc/ops.py", 1, "medium", "lint", "new lint problem: T100 TODO left in code")
    ]
    assert report.before == {"tests": None, "lint_exit_code": 1} and report.after == {
        "tests": None,
        "lint_exit_code": 1,
    }


def test_a_new_lint_problem_in_a_new_file_and_a_lint_that_cannot_run_on_the_base(tmp_path):
    repo = make_repo(tmp_path / "repo", FILES)
    edit(repo, "calc/new.py", "w = 3\n# TODO: later\n")
    report = judged(repo, None, LINT, changed=["calc/new.py"])
    assert [(f.path, f.line) for f in report.findings] == [("calc/new.py", 2)]
    # lint.py does not exist on the base: no finding, a note
    git(repo, "rm", "-q", "--cached", "lint.py")
    git(repo, "commit", "-qm", "untrack the linter")
    report = judged(repo, None, LINT, changed=["calc/new.py"])
    assert report.findings == [] and "failed on the base (HEAD) without reporting a problem" in report.notes[0]


def test_a_test_command_without_per_test_results_is_judged_by_exit_code(tmp_path):
    check = "import sys\nfrom calc.ops import sub\nif sub(5, 3) != 2:\n    sys.exit('sub is broken')\n"
    repo = make_repo(tmp_path / "repo", {**FILES, "check.py": check})
    edit(repo, "calc/ops.py", OPS.replace("a - b", "a + b"))
    report = judged(repo, f"{PY} check.py", changed=["calc/ops.py"])
    assert report.findings == [
        JudgeFinding(
            None,
            None,
            "high",
            "tests",
            f"`{PY} check.py` passed before the change and now fails (exit 1): sub is broken",
        )
    ]
    assert report.notes == [f"per-test results unavailable for `{PY} check.py`: judged by exit code"]
    # it failed on the base too: nothing to compare
    git(repo, "commit", "-qam", "break sub")
    edit(repo, "calc/ops.py", OPS.replace("a - b", "a * b"))
    report = judged(repo, f"{PY} check.py", changed=["calc/ops.py"])
    assert report.findings == []
    assert (
        "already failed on the base (exit 1): without per-test results the runs cannot be compared" in report.notes[1]
    )


def test_the_base_imports_its_own_code_even_when_the_users_tree_is_on_the_path(tmp_path):
    """A src layout whose package the environment imports from the user's tree, as an editable install does."""
    files = {"src/calc/__init__.py": "", "src/calc/ops.py": OPS, "tests/test_ops.py": TESTS}
    repo = make_repo(tmp_path / "repo", files)
    edit(repo, "src/calc/ops.py", OPS.replace("a - b", "a + b"))
    editable = SubprocessRunner(extra_env={**RUNNER.extra_env, "PYTHONPATH": str(repo / "src")})
    report = judged(repo, PYTEST, changed=["src/calc/ops.py"], runner=editable)
    # without the checkout first on PYTHONPATH, the base would fail test_sub too, and nothing would be found
    assert [f.message.split(": ")[0] for f in report.findings] == [
        "tests.test_ops::test_sub passed before the change and now fails"
    ]


class Wrapped:
    """A runner that is not a SubprocessRunner: the base checkout's PYTHONPATH comes through the shell."""

    def __init__(self):
        self.inner, self.commands = SubprocessRunner(), []

    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
        self.commands.append(command)
        return self.inner.run(command, cwd, timeout_s)


def test_the_base_run_has_the_checkout_first_on_pythonpath(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "repo", {**FILES, "src/.keep": ""})
    log = tmp_path / "seen.txt"
    record = (
        f"import os; open(r'{log}', 'a').write(os.getcwd() + '|' + os.environ.get('PYTHONPATH', '') + "
        "chr(10)); raise SystemExit(1)"
    )
    command = f'{PY} -c "{record}"'
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    for runner in (RUNNER, Wrapped()):
        log.unlink(missing_ok=True)
        judged(repo, command, runner=runner)
        (here, here_path), (base, base_path) = (line.split("|") for line in log.read_text().splitlines())
        assert Path(here) == repo and here_path == "/elsewhere"
        assert Path(base).parent == GitWorkspace(repo).state_dir / "worktrees"
        assert base_path == f"{base}:{base}/src:/elsewhere"
    assert runner.commands[1] != command and runner.commands[1].endswith(command)


def test_a_pytest_config_added_at_the_root_keeps_the_base_test_ids_comparable(tmp_path):
    """The base checkout lives under .git: pytest running there finds the user's new pytest.ini above it."""
    repo = make_repo(tmp_path / "repo", FILES)
    edit(repo, "pytest.ini", "[pytest]\n")
    edit(repo, "calc/ops.py", OPS.replace("a - b", "a + b"))
    report = judged(repo, PYTEST, changed=["calc/ops.py", "pytest.ini"])
    assert [f.message.split(": ")[0] for f in report.findings] == [
        "tests.test_ops::test_sub passed before the change and now fails"
    ]
    assert report.before["tests"]["tests"] == 2


def test_a_timeout_on_the_base_is_a_note_and_the_checkout_is_removed(tmp_path):
    repo = make_repo(tmp_path / "repo", FILES)
    slow_on_base = f"{PY} -c \"import os, sys, time; time.sleep(30) if '.git' in os.getcwd() else sys.exit(1)\""
    report = judged(repo, slow_on_base, timeout_s=1)
    assert report.findings == [] and report.before["tests"]["timed_out"] is True
    assert report.notes == [f"`{slow_on_base}` timed out after 1s on the base (HEAD): tests not compared"]


def test_the_checkout_is_removed_when_the_run_raises(tmp_path):
    class Interrupted:
        def __init__(self):
            self.calls = 0

        def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return CommandResult(command, 1, "failed", 0.1)

    repo = make_repo(tmp_path / "repo", FILES)
    with pytest.raises(KeyboardInterrupt):
        judged(repo, "make test", runner=Interrupted())


def test_no_command_and_a_bad_base_give_notes(tmp_path):
    repo = make_repo(tmp_path / "repo", FILES)
    report = judged(repo, None, None)
    assert report.findings == [] and report.notes == ["no test or lint command is configured: nothing was run"]
    report = judged(repo, f"{PY} -c 'raise SystemExit(1)'", base="no-such-rev")
    assert report.findings == [] and "the base `no-such-rev` could not be checked out" in report.notes[0]
