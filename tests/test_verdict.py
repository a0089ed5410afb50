"""The verdict belongs to the baseline: a patch cannot switch off the test it breaks.

In-process `fix` runs on a real git repository with real pytest runs (tests/flowkit.py), and the
pure pieces: the per-test comparison, the runners' statuses, and which files judge a patch.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import CLASSIFY_OPS, snapshot
from flowkit import fix, outcomes, scripted

from tieragent.core.errors import ExitCode
from tieragent.judge.reports import parse_junit_files
from tieragent.judge.tamper import protected_edit
from tieragent.judge.testresults import TestRun, judge_tests, parse_junit
from tieragent.judge.textreports import parse_unittest
from tieragent.repo.runner import CommandResult

# fixes add() and breaks sub(): tests.test_ops::test_sub, which passed before, now fails
BREAKS_SUB = """\
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,7 +1,7 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
 
 
 def sub(a, b):
-    return a - b
+    return a + b
"""  # noqa: W293 - a blank context line in a diff is one space


def _new_file(path: str, text: str) -> str:
    lines = text.splitlines()
    return f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)


def _reply(*diffs: str) -> str:
    return "```diff\n" + "".join(diffs) + "```\n"


DESELECTS_IN_DOT_PYTEST_INI = _reply(
    BREAKS_SUB, _new_file(".pytest.ini", "[pytest]\naddopts = --deselect tests/test_ops.py::test_sub")
)
DESELECTS_IN_PYTEST_TOML = _reply(
    BREAKS_SUB, _new_file("pytest.toml", '[pytest]\naddopts = ["--deselect", "tests/test_ops.py::test_sub"]')
)
# the code under test makes the test that calls it skip (or xfail) at run time: no test file is touched
SKIPS_FROM_SOURCE = _reply("""\
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,7 +1,9 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
 
 
 def sub(a, b):
-    return a - b
+    import pytest
+    pytest.skip("sub is being rewritten")
+    return a + b
""")  # noqa: W293 - a blank context line in a diff is one space
XFAILS_FROM_SOURCE = SKIPS_FROM_SOURCE.replace(
    'pytest.skip("sub is being rewritten")', 'pytest.xfail("sub is being rewritten")'
)
# a correct fix that also rewrites tieragent's own config: the next run would be judged by `true`
EDITS_TIERAGENT_YAML = _reply("""\
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
--- a/.tieragent.yaml
+++ b/.tieragent.yaml
@@ -1,2 +1,2 @@
 validate:
-  test: python -m pytest -q
+  test: 'true'
""")


def _patched_by(reply: str) -> dict:
    return scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [reply], ("patch", "frontier"): [reply]})


# ------------------------------------------------------------------------------------ the three ways seen accepted


@pytest.mark.parametrize(
    "reply", [DESELECTS_IN_DOT_PYTEST_INI, DESELECTS_IN_PYTEST_TOML], ids=[".pytest.ini", "pytest.toml"]
)
def test_a_patch_that_deselects_the_test_it_breaks_is_refused(calc_repo, reply):
    before = snapshot(calc_repo)
    result = fix(calc_repo, _patched_by(reply))
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    assert set(outcomes(result)) == {("mid", "test-edit-refused"), ("frontier", "test-edit-refused")}
    assert result.test_edits[0]["reason"] == "edits test configuration" and result.test_edits[0]["allowed"] is False
    assert snapshot(calc_repo) == before


@pytest.mark.parametrize(
    "reply", [DESELECTS_IN_DOT_PYTEST_INI, DESELECTS_IN_PYTEST_TOML], ids=[".pytest.ini", "pytest.toml"]
)
def test_a_deselected_test_fails_the_verdict_even_when_config_edits_are_allowed(calc_repo, reply):
    result = fix(calc_repo, _patched_by(reply), allow_test_edits=True)
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    assert set(outcomes(result)) == {("mid", "tests-failed"), ("frontier", "tests-failed")}
    assert (
        result.validation.reason
        == "tests.test_ops::test_sub passed before and was not run (deselected or removed) after the patch"
    )
    assert result.validation.checks["tests"]["no_longer_run"] == {"tests.test_ops::test_sub": "absent"}


@pytest.mark.parametrize(
    "reply, how", [(SKIPS_FROM_SOURCE, "skipped"), (XFAILS_FROM_SOURCE, "xfailed")], ids=["skip", "xfail"]
)
def test_a_patch_that_makes_the_test_skip_from_the_code_under_test_is_refused(calc_repo, reply, how):
    before = snapshot(calc_repo)
    result = fix(calc_repo, _patched_by(reply))
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    assert set(outcomes(result)) == {("mid", "tests-failed"), ("frontier", "tests-failed")}
    assert result.validation.reason == f"tests.test_ops::test_sub passed before and was {how} after the patch"
    assert result.test_edits == []  # no test file was edited: the verdict alone caught it
    assert snapshot(calc_repo) == before


def test_a_patch_that_edits_tieragent_yaml_is_refused(calc_repo):
    from conftest import git

    (calc_repo / ".tieragent.yaml").write_text("validate:\n  test: python -m pytest -q\n")
    git(calc_repo, "add", "-A")
    git(calc_repo, "commit", "-qm", "config")
    before = snapshot(calc_repo)
    result = fix(calc_repo, _patched_by(EDITS_TIERAGENT_YAML))
    assert result.status == "failed" and result.exit_code == ExitCode.NOT_FIXED
    assert set(outcomes(result)) == {("mid", "test-edit-refused"), ("frontier", "test-edit-refused")}
    assert result.test_edits[0] == {
        "path": ".tieragent.yaml",
        "reason": "edits tieragent's configuration",
        "allowed": False,
        "decided_by": "not interactive",
    }
    assert snapshot(calc_repo) == before


def test_a_nested_conftest_goes_through_the_guard(calc_repo):
    skip_all = _new_file("calc/sub/conftest.py", "collect_ignore_glob = ['*']")
    asked = []
    result = fix(calc_repo, _patched_by(_reply(BREAKS_SUB, skip_all)), confirm=lambda q, d: asked.append(q) or False)
    assert result.status == "failed" and "calc/sub/conftest.py (edits test configuration)" in asked[0]


# ------------------------------------------------------------------------------------ the comparison itself


def _run(cases, exit_code=0):
    return TestRun(CommandResult("pytest", exit_code, "", 1.0, False), cases)


BASE = _run({"t::a": "passed", "t::b": "passed", "t::bug": "failed"}, 1)


@pytest.mark.parametrize(
    "b_after, reason",
    [
        ("skipped", "t::b passed before and was skipped after the patch"),
        ("xfailed", "t::b passed before and was xfailed after the patch"),
        (None, "t::b passed before and was not run (deselected or removed) after the patch"),
    ],
)
def test_a_test_that_passed_before_and_no_longer_runs_is_a_regression(b_after, reason):
    after = {"t::a": "passed", "t::bug": "passed"} | ({"t::b": b_after} if b_after else {})
    v = judge_tests(BASE, _run(after), {"t::bug"}, "named in the request")
    assert not v.ok and v.reason == reason
    assert v.checks["no_longer_run"] == {"t::b": b_after or "absent"}


def test_many_tests_no_longer_run_are_counted():
    base = _run({f"t::{n}": "passed" for n in "abcde"} | {"t::bug": "failed"}, 1)
    v = judge_tests(base, _run({"t::bug": "passed"}), {"t::bug"}, "named in the request")
    assert not v.ok and v.reason.endswith("(and 2 more)") and len(v.checks["no_longer_run"]) == 5


def test_a_skipped_target_is_not_fixed_and_says_how():
    after = {"t::a": "passed", "t::b": "passed", "t::bug": "skipped"}
    v = judge_tests(BASE, _run(after), {"t::bug"}, "named in the request")
    assert not v.ok and v.reason == "the patch did not fix t::bug (it was skipped after the patch)"


def test_tests_skipped_before_may_stay_skipped():
    base = _run({"t::a": "passed", "t::slow": "skipped", "t::bug": "failed"}, 1)
    assert judge_tests(base, _run({"t::a": "passed", "t::slow": "skipped", "t::bug": "passed"}), {"t::bug"}, "named").ok


def test_a_runner_that_stops_reporting_per_test_after_the_patch_is_not_judged_by_exit_code():
    v = judge_tests(BASE, _run(None, 0), {"t::bug"}, "named in the request")
    assert not v.ok and "wrote no per-test report after the patch" in v.reason


# ------------------------------------------------------------------------------------ the runners keep xfail apart


def test_pytest_junit_keeps_xfail_and_skip_apart_from_pass(tmp_path):
    report = tmp_path / "j.xml"
    report.write_text(
        textwrap.dedent("""\
        <testsuites><testsuite>
          <testcase classname="tests.t" name="ok"/>
          <testcase classname="tests.t" name="later"><skipped type="pytest.skip" message="later"/></testcase>
          <testcase classname="tests.t" name="known"><skipped type="pytest.xfail" message="known bug"/></testcase>
          <testcase classname="tests.t" name="bad"><failure message="assert 1 == 2"/></testcase>
        </testsuite></testsuites>""")
    )
    expected = {
        "tests.t::ok": "passed",
        "tests.t::later": "skipped",
        "tests.t::known": "xfailed",
        "tests.t::bad": "failed",
    }
    assert parse_junit(report) == expected
    assert (
        parse_junit_files([report], tmp_path).cases == expected
    )  # validate.junit_xml reads pytest's report the same way


def test_unittest_expected_failure_is_not_a_pass():
    output = textwrap.dedent("""\
        test_add (tests.test_ops.TestOps.test_add) ... ok
        test_known (tests.test_ops.TestOps.test_known) ... expected failure
        test_later (tests.test_ops.TestOps.test_later) ... skipped 'later'

        ----------------------------------------------------------------------
        Ran 3 tests in 0.001s

        OK (skipped=1, expected failures=1)
        """)
    assert parse_unittest(output, Path(".")).cases == {
        "tests.test_ops.TestOps::test_add": "passed",
        "tests.test_ops.TestOps::test_known": "xfailed",
        "tests.test_ops.TestOps::test_later": "skipped",
    }


# --------------------------------------------------------- what judges a patch, by name and depth

PYPROJECT = b"[project]\nname = 'x'\nversion = '1'\n"
CARGO = b'[package]\nname = "calc"\nversion = "0.1.0"\n\n[dependencies]\nserde = "1"\n'
GO_MOD = b"module example.com/calc\n\ngo 1.21\n\nrequire github.com/stretchr/testify v1.8.0\n"
PACKAGE = b'{"name": "calc", "scripts": {"test": "npm run unit", "unit": "jest", "build": "tsc"}, "dependencies": {}}'


@pytest.mark.parametrize(
    "path",
    [
        "pytest.ini",
        ".pytest.ini",
        "pytest.toml",
        ".pytest.toml",
        "conftest.py",
        "tox.ini",
        "setup.cfg",
        "jest.config.js",
        "jest.config.ts",
        "vitest.config.mts",
        "vitest.workspace.ts",
        ".mocharc.yml",
        ".mocharc.json",
        "go.work",
        ".cargo/config.toml",
        ".cargo/config",
    ],
)
@pytest.mark.parametrize("folder", ["", "pkg/", "services/api/deep/"], ids=["root", "one deep", "three deep"])
def test_test_configuration_is_guarded_by_name_at_any_depth(folder, path):
    assert protected_edit(folder + path, b"a", b"b") == "edits test configuration"


@pytest.mark.parametrize("folder", ["", "sub/dir/"])
def test_tieragents_own_config_is_guarded_at_any_depth(folder):
    assert (
        protected_edit(folder + ".tieragent.yaml", b"validate:\n  test: make\n", b"validate:\n  test: 'true'\n")
        == "edits tieragent's configuration"
    )


@pytest.mark.parametrize(
    "path, old, new, expected",
    [
        # pyproject.toml: the pytest tables however they are written; other tables are not guarded
        (
            "pyproject.toml",
            PYPROJECT,
            PYPROJECT + b"[tool.pytest.ini_options]\naddopts = '-k not slow'\n",
            "edits [tool.pytest.ini_options] in pyproject.toml",
        ),
        (
            "api/pyproject.toml",
            PYPROJECT,
            PYPROJECT + b"[tool.pytest]\naddopts = ['-k', 'not slow']\n",
            "edits [tool.pytest] in pyproject.toml",
        ),
        (
            "pyproject.toml",
            b"tool.pytest.ini_options.addopts = '-q'\n" + PYPROJECT,
            b"tool.pytest.ini_options.addopts = '-q -k x'\n" + PYPROJECT,
            "edits [tool.pytest.ini_options] in pyproject.toml",
        ),
        (
            "pyproject.toml",
            PYPROJECT,
            PYPROJECT.replace(b"'1'", b"'2'") + b"[tool.black]\nline-length = 200\n",
            "edits [tool.black] in pyproject.toml",
        ),
        ("pyproject.toml", PYPROJECT, PYPROJECT.replace(b"'1'", b"'2'"), None),
        # Cargo.toml: test targets, the profiles tests build with, and the switches that turn tests off
        ("Cargo.toml", CARGO, CARGO + b'\n[[test]]\nname = "api"\nharness = false\n', "edits [[test]] in Cargo.toml"),
        (
            "crates/calc/Cargo.toml",
            CARGO,
            CARGO + b"\n[profile.test]\noverflow-checks = false\n",
            "edits [profile.test] in Cargo.toml",
        ),
        (
            "Cargo.toml",
            CARGO,
            CARGO.replace(b'version = "0.1.0"\n', b'version = "0.1.0"\nautotests = false\n'),
            "edits autotests in Cargo.toml",
        ),
        ("Cargo.toml", CARGO, CARGO + b"\n[lib]\ntest = false\n", "edits test/harness/doctest in [lib] in Cargo.toml"),
        (
            "Cargo.toml",
            CARGO,
            CARGO + b'\n[[bin]]\nname = "x"\nharness = false\n',
            "edits test/harness/doctest in [bin] in Cargo.toml",
        ),
        ("Cargo.toml", CARGO, CARGO + b'rand = "0.8"\n', None),
        # go.mod: directives that change how the tests build; a new requirement does not
        (
            "go.mod",
            GO_MOD,
            GO_MOD.replace(b"go 1.21", b"go 1.21\ntoolchain go1.22.0"),
            "edits the toolchain directive of go.mod",
        ),
        (
            "svc/go.mod",
            GO_MOD,
            GO_MOD + b"replace github.com/stretchr/testify => ./fakeassert\n",
            "edits the replace directive of go.mod",
        ),
        ("go.mod", GO_MOD, GO_MOD + b"godebug (\n\tpanicnil=1\n)\n", "edits the godebug directive of go.mod"),
        ("go.mod", GO_MOD, GO_MOD.replace(b"go 1.21", b"go 1.22"), "edits the go directive of go.mod"),
        ("go.mod", GO_MOD, GO_MOD + b"require golang.org/x/text v0.14.0\n", None),
        # package.json: the runners' keys, the test script and what it runs; not the build
        (
            "package.json",
            PACKAGE,
            PACKAGE.replace(b'"name"', b'"jest": {"testPathIgnorePatterns": ["math"]}, "name"'),
            'edits "jest" in package.json',
        ),
        (
            "web/package.json",
            PACKAGE,
            PACKAGE.replace(b'"npm run unit"', b'"true"'),
            "edits scripts.test in package.json",
        ),
        (
            "package.json",
            PACKAGE,
            PACKAGE.replace(b'"unit": "jest"', b'"unit": "jest --passWithNoTests -t nothing"'),
            "edits scripts.unit in package.json",
        ),
        ("package.json", PACKAGE, PACKAGE.replace(b'"tsc"', b'"tsc -p ."'), None),
        (
            "package.json",
            PACKAGE,
            b"{not json",
            "edits package.json, which holds the test script, and it cannot be read as JSON",
        ),
        # vite.config configures vitest only when it has a test section
        (
            "vite.config.ts",
            b"export default {}",
            b"export default { test: { exclude: ['**/math*'] } }",
            "edits test configuration (vitest reads vite.config's `test` section)",
        ),
        ("vite.config.ts", b"export default {}", b"export default { base: '/app/' }", None),
    ],
)
def test_files_that_hold_more_than_test_settings_are_guarded_only_for_those(path, old, new, expected):
    assert protected_edit(path, old, new) == expected


@pytest.mark.parametrize(
    "command, path, guarded",
    [
        ("make test", "Makefile", True),
        ("make -f build/tests.mk check", "build/tests.mk", True),
        ("./scripts/run-tests.sh --fast", "scripts/run-tests.sh", True),
        ("bash ci/test.sh && echo done", "ci/test.sh", True),
        ("just test", "justfile", True),
        ("make test", "src/Makefile.am", False),
        ("python -m pytest -q", "Makefile", False),
    ],
)
def test_a_file_the_test_command_runs_is_guarded(command, path, guarded):
    reason = protected_edit(path, b"test:\n\tpytest\n", b"test:\n\ttrue\n", (command, None))
    assert (reason == "edits a file the test or lint command runs") is guarded


def test_without_a_toml_parser_the_sections_an_edit_touches_decide(monkeypatch):
    from tieragent.judge import config_edits

    monkeypatch.setattr(config_edits, "tomllib", None)  # Python 3.10
    assert (
        protected_edit("pyproject.toml", PYPROJECT, PYPROJECT + b"[tool.pytest.ini_options]\naddopts = '-x'\n")
        == "edits [tool.pytest.ini_options] in pyproject.toml"
    )
    assert protected_edit("pyproject.toml", PYPROJECT, PYPROJECT.replace(b"'1'", b"'2'")) is None
    assert (
        protected_edit("Cargo.toml", CARGO, CARGO + b"\n[profile.test]\nopt-level = 3\n")
        == "edits [profile.test] in Cargo.toml"
    )
    assert protected_edit("Cargo.toml", CARGO, CARGO + b"\n[lib]\ntest = false\n") == "edits [lib] in Cargo.toml"
    assert protected_edit("Cargo.toml", CARGO, CARGO + b'rand = "0.8"\n') is None


def test_a_missing_test_is_not_counted_where_the_runner_may_not_have_rerun_it():
    # Gradle and Maven write their own reports; an up-to-date module's tests are not rerun, so they are missing
    after = TestRun(
        CommandResult("gradle test", 0, "", 1.0, False), {"t::a": "passed", "t::bug": "passed"}, lists_every_test=False
    )
    assert judge_tests(BASE, after, {"t::bug"}, "named in the request").ok
    skipped = TestRun(after.result, {"t::a": "passed", "t::b": "skipped", "t::bug": "passed"}, lists_every_test=False)
    assert not judge_tests(BASE, skipped, {"t::bug"}, "named in the request").ok  # a skip is still a skip


def test_runners_that_write_their_own_reports_do_not_list_every_test(tmp_path):
    from tieragent.judge.runners import run_test_command
    from tieragent.repo.runner import SubprocessRunner

    reports = tmp_path / "build/test-results/test"
    script = (
        f'mkdir -p {reports} && printf \'<testsuite><testcase classname="C" name="t"/></testsuite>\' '
        f"> {reports}/TEST-C.xml"
    )
    run, _ = run_test_command(
        SubprocessRunner(), tmp_path, script, tmp_path / "tmp", 30, junit_xml="build/test-results/**/TEST-*.xml"
    )
    assert run.cases == {"C::t": "passed"} and run.lists_every_test is False
