"""Test runner adapters, report parsers, lint formats and failure condensing, on output written here
in each tool's documented format (go's test2json events, jest's --json, vitest's and mocha's JUnit,
Surefire's XML, node's TAP, libtest's text, unittest's -v lines). No runner is started, except
python's own unittest and shell stand-ins for runners that write their reports themselves."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tieragent.judge import reports, streams, textreports
from tieragent.judge.failure_output import REPORT_HEADER, condense, render_failures
from tieragent.judge.lint import lint_locations, lint_problems, readable
from tieragent.judge.runners import (
    GRADLE_REPORTS,
    SURE_FIRE_REPORTS,
    CargoTest,
    GoTest,
    JUnitFiles,
    NodeTest,
    Pytest,
    Script,
    detect_runner,
    last_segment_start,
    report_files,
    run_test_command,
)
from tieragent.judge.testresults import target_tests
from tieragent.repo.runner import SubprocessRunner

CWD = Path("/work/proj")

# ------------------------------------------------------------------------------------ go test -json
GO_MOD = "module example.com/calc\n\ngo 1.22\n"
GO_EVENTS = [
    {"Action": "start", "Package": "example.com/calc"},
    {"Action": "run", "Package": "example.com/calc", "Test": "TestAdd"},
    {"Action": "output", "Package": "example.com/calc", "Test": "TestAdd", "Output": "=== RUN   TestAdd\n"},
    {
        "Action": "output",
        "Package": "example.com/calc",
        "Test": "TestAdd",
        "Output": "    ops_test.go:9: Add(2, 3) = -1, want 5\n",
    },
    {"Action": "output", "Package": "example.com/calc", "Test": "TestAdd", "Output": "--- FAIL: TestAdd (0.00s)\n"},
    {"Action": "fail", "Package": "example.com/calc", "Test": "TestAdd", "Elapsed": 0},
    {"Action": "run", "Package": "example.com/calc", "Test": "TestSub"},
    {"Action": "run", "Package": "example.com/calc", "Test": "TestSub/negative"},
    {"Action": "pass", "Package": "example.com/calc", "Test": "TestSub/negative", "Elapsed": 0},
    {"Action": "pass", "Package": "example.com/calc", "Test": "TestSub", "Elapsed": 0},
    {"Action": "skip", "Package": "example.com/calc", "Test": "TestSlow", "Elapsed": 0},
    {"Action": "output", "Package": "example.com/calc", "Output": "FAIL\texample.com/calc\t0.004s\n"},
    {"Action": "fail", "Package": "example.com/calc", "Elapsed": 0.004},
    # a package that does not compile (Go 1.24 reports the compiler's output as build-output events)
    {
        "ImportPath": "example.com/calc/parse [example.com/calc/parse.test]",
        "Action": "build-output",
        "Output": "# example.com/calc/parse [example.com/calc/parse.test]\n",
    },
    {
        "ImportPath": "example.com/calc/parse [example.com/calc/parse.test]",
        "Action": "build-output",
        "Output": "parse/parse.go:7:9: undefined: strconv\n",
    },
    {"Action": "start", "Package": "example.com/calc/parse"},
    {
        "Action": "output",
        "Package": "example.com/calc/parse",
        "Output": "FAIL\texample.com/calc/parse [build failed]\n",
    },
    {
        "Action": "fail",
        "Package": "example.com/calc/parse",
        "Elapsed": 0,
        "FailedBuild": "example.com/calc/parse [example.com/calc/parse.test]",
    },
]


def test_go_events(tmp_path):
    (tmp_path / "go.mod").write_text(GO_MOD)
    (tmp_path / "ops_test.go").write_text(
        "package calc\n\nfunc TestAdd(t *testing.T) {}\n\nfunc TestSub(t *testing.T) {}\n"
    )
    parsed = streams.parse_go("\n".join(json.dumps(e) for e in GO_EVENTS), tmp_path)
    assert parsed.cases == {
        "ops_test.go::TestAdd": "failed",
        "ops_test.go::TestSub/negative": "passed",
        "ops_test.go::TestSub": "passed",
        ".::TestSlow": "skipped",
        "parse::(build)": "failed",
    }
    assert parsed.failures["ops_test.go::TestAdd"].message == "ops_test.go:9: Add(2, 3) = -1, want 5"
    assert "undefined: strconv" in parsed.failures["parse::(build)"].details
    assert streams.parse_go("go: no Go files in /x\n", tmp_path) is None  # not the event stream: no per-test results


# ------------------------------------------------------------------------------------ jest --json
def jest_report(root: Path) -> dict:
    return {
        "numFailedTests": 1,
        "success": False,
        "testResults": [
            {
                "name": f"{root}/src/math.test.ts",
                "status": "failed",
                "message": "",
                "assertionResults": [
                    {
                        "ancestorTitles": ["math", "add"],
                        "title": "adds two numbers",
                        "fullName": "math add adds two numbers",
                        "status": "failed",
                        "failureMessages": [
                            "Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 5\n"
                            "Received: -1\n"
                            f"    at Object.<anonymous> ({root}/src/math.test.ts:6:22)\n"
                            f"    at Promise.then.completed ({root}/node_modules/jest-circus/build/utils.js:298:28)"
                        ],
                    },
                    {"ancestorTitles": ["math"], "title": "subtracts", "status": "passed", "failureMessages": []},
                    {"ancestorTitles": [], "title": "later", "status": "todo", "failureMessages": []},
                ],
            },
            {
                "name": f"{root}/src/broken.test.ts",
                "status": "failed",
                "assertionResults": [],
                "message": (
                    "  ● Test suite failed to run\n\n    Cannot find module './nope' from 'src/broken.test.ts'\n"
                ),
            },
        ],
    }


def test_jest_json(tmp_path):
    report = tmp_path / "r.json"
    report.write_text(json.dumps(jest_report(tmp_path)))
    parsed = reports.parse_jest(report, tmp_path)
    assert parsed.cases == {
        "src/math.test.ts::math::add::adds two numbers": "failed",
        "src/math.test.ts::math::subtracts": "passed",
        "src/math.test.ts::later": "skipped",
        "src/broken.test.ts::(load)": "failed",
    }
    f = parsed.failures["src/math.test.ts::math::add::adds two numbers"]
    assert f.message.startswith("Error: expect(received).toBe(expected)") and "Received: -1" in f.message
    assert "src/math.test.ts:6:22" in f.details and "node_modules" not in f.details and str(tmp_path) not in f.details
    assert parsed.failures["src/broken.test.ts::(load)"].collection


# ------------------------------------------------------------- JUnit XML: vitest, mocha, Surefire
VITEST_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="3" failures="1" errors="0" time="0.4">
  <testsuite name="src/math.test.ts" tests="3" failures="1" errors="0" skipped="1" time="0.01">
    <testcase classname="src/math.test.ts" name="math &gt; adds" time="0.002">
      <failure message="expected -1 to be 5 // Object.is equality"
               type="AssertionError">AssertionError: expected -1 to be 5 // Object.is equality
 &#x276F; src/math.test.ts:4:22</failure>
    </testcase>
    <testcase classname="src/math.test.ts" name="math &gt; subtracts" time="0"/>
    <testcase classname="src/math.test.ts" name="later" time="0"><skipped/></testcase>
  </testsuite>
  <testsuite name="src/broken.test.ts" tests="1" failures="1">
    <testcase classname="src/broken.test.ts" name="src/broken.test.ts" time="0">
      <failure message="Cannot find module './nope'" type="Error"/>
    </testcase>
  </testsuite>
</testsuites>
"""
MOCHA_XML = """<testsuite name="Mocha Tests" tests="3" failures="0" errors="1" skipped="1" time="0.01">
<testcase classname="parser dates" name="parses ISO dates" file="{root}/test/parser.spec.js" time="0.001">
<failure>expected 2 to equal 3
AssertionError: expected 2 to equal 3
    at Context.&lt;anonymous&gt; (test/parser.spec.js:12:20)
    at process.processImmediate (node:internal/timers:483:21)</failure></testcase>
<testcase classname="parser" name="parses numbers" file="{root}/test/parser.spec.js" time="0"/>
<testcase classname="" name="top level" file="{root}/test/parser.spec.js" time="0"><skipped/></testcase>
</testsuite>
"""
SUREFIRE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CalcTest" time="0.031" tests="3" errors="1" skipped="0" failures="1">
  <properties><property name="java.version" value="17"/></properties>
  <testcase name="testAdd" classname="com.example.CalcTest" time="0.01">
    <failure message="expected: &lt;5&gt; but was: &lt;-1&gt;"
             type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: \
expected: &lt;5&gt; but was: &lt;-1&gt;
	at org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)
	at com.example.CalcTest.testAdd(CalcTest.java:12)
	at java.base/java.lang.reflect.Method.invoke(Method.java:568)
</failure>
  </testcase>
  <testcase name="testParse" classname="com.example.CalcTest" time="0.001">
    <error message="boom" type="java.lang.IllegalStateException">java.lang.IllegalStateException: boom
	at com.example.Calc.parse(Calc.java:30)</error>
  </testcase>
  <testcase name="testSub" classname="com.example.CalcTest" time="0.001"/>
</testsuite>
"""


def test_vitest_junit(tmp_path):
    (tmp_path / "r.xml").write_text(VITEST_XML)
    parsed = reports.parse_junit_files([tmp_path / "r.xml"], tmp_path, "vitest")
    assert parsed.cases == {
        "src/math.test.ts::math::adds": "failed",
        "src/math.test.ts::math::subtracts": "passed",
        "src/math.test.ts::later": "skipped",
        "src/broken.test.ts::(load)": "failed",
    }
    assert parsed.failures["src/math.test.ts::math::adds"].message.startswith("AssertionError: expected -1 to be 5")


def test_mocha_xunit(tmp_path):
    (tmp_path / "r.xml").write_text(MOCHA_XML.format(root=tmp_path))
    parsed = reports.parse_junit_files([tmp_path / "r.xml"], tmp_path, "mocha")
    assert parsed.cases == {
        "test/parser.spec.js::parser dates::parses ISO dates": "failed",
        "test/parser.spec.js::parser::parses numbers": "passed",
        "test/parser.spec.js::top level": "skipped",
    }
    f = parsed.failures["test/parser.spec.js::parser dates::parses ISO dates"]
    assert "test/parser.spec.js:12:20" in f.details and "node:internal" not in f.details


def test_surefire_xml(tmp_path):
    (tmp_path / "TEST-com.example.CalcTest.xml").write_text(SUREFIRE_XML)
    parsed = reports.parse_junit_files([tmp_path / "TEST-com.example.CalcTest.xml"], tmp_path)
    assert parsed.cases == {
        "com.example.CalcTest::testAdd": "failed",
        "com.example.CalcTest::testParse": "failed",
        "com.example.CalcTest::testSub": "passed",
    }
    f = parsed.failures["com.example.CalcTest::testAdd"]
    assert f.message.startswith("org.opentest4j.AssertionFailedError: expected: <5> but was: <-1>")
    assert (
        "CalcTest.testAdd(CalcTest.java:12)" in f.details
        and "org.junit" not in f.details
        and "java.base" not in f.details
    )
    assert reports.parse_junit_files([tmp_path / "missing.xml"], tmp_path) is None


def test_reports_the_runner_writes_are_read_only_when_this_run_wrote_them(tmp_path):
    """Surefire's folder holds a stale report from an earlier run: only the one this run writes counts."""
    folder = tmp_path / "core/target/surefire-reports"
    folder.mkdir(parents=True)
    (folder / "TEST-com.example.OldTest.xml").write_text(SUREFIRE_XML.replace("CalcTest", "OldTest"))
    fresh = (
        SUREFIRE_XML.replace("<failure", "<skipped/><unused")
        .replace("</failure>", "</unused>")
        .replace("<error", "<unused")
        .replace("</error>", "</unused>")
    )
    (tmp_path / "fresh.xml").write_text(fresh)
    command = "cp fresh.xml core/target/surefire-reports/TEST-com.example.CalcTest.xml"
    run, _ = run_test_command(
        SubprocessRunner(), tmp_path, command, tmp_path / "tmp", 30, adapter=JUnitFiles("maven", glob=SURE_FIRE_REPORTS)
    )
    assert set(run.cases) == {
        "com.example.CalcTest::testAdd",
        "com.example.CalcTest::testParse",
        "com.example.CalcTest::testSub",
    }
    assert set(report_files(tmp_path, SURE_FIRE_REPORTS)) == set(folder.iterdir())
    again, _ = run_test_command(
        SubprocessRunner(), tmp_path, "true", tmp_path / "tmp", 30, adapter=JUnitFiles("maven", glob=SURE_FIRE_REPORTS)
    )
    assert again.cases is None  # nothing written by this run: no per-test results, never the stale ones


# ------------------------------------------------------------------------------------ node: events, TAP
def test_node_events(tmp_path):
    f, other = f"{tmp_path}/test/math.test.js", f"{tmp_path}/test/other.test.js"
    events = [
        {
            "event": "stderr",
            "file": f"{tmp_path}/test/broken.test.js",
            "message": "Error: Cannot find module './nope'\n",
        },
        {
            "event": "start",
            "name": f"{tmp_path}/test/broken.test.js",
            "nesting": 0,
            "file": f"{tmp_path}/test/broken.test.js",
        },
        {
            "event": "fail",
            "name": f"{tmp_path}/test/broken.test.js",
            "nesting": 0,
            "file": f"{tmp_path}/test/broken.test.js",
            "error": "test failed",
        },
        {"event": "start", "name": "add", "nesting": 0, "file": f},
        {
            "event": "fail",
            "name": "add",
            "nesting": 0,
            "file": f,
            "error": f"AssertionError: -1 !== 5\n    at TestContext.<anonymous> ({f}:5:10)",
        },
        {"event": "start", "name": "sub", "nesting": 0, "file": f},
        {"event": "start", "name": "subtracts", "nesting": 1, "file": f},
        {"event": "pass", "name": "subtracts", "nesting": 1, "file": f},
        {"event": "start", "name": "later", "nesting": 1, "file": f},
        {"event": "pass", "name": "later", "nesting": 1, "file": f, "skip": True},
        {"event": "pass", "name": "sub", "nesting": 0, "file": f, "suite": True},
        {"event": "start", "name": "add", "nesting": 0, "file": other},  # the same name in another file is another test
        {"event": "pass", "name": "add", "nesting": 0, "file": other},
        {"event": "start", "name": "hooks", "nesting": 0, "file": other},
        {
            "event": "fail",
            "name": "hooks",
            "nesting": 0,
            "file": other,
            "suite": True,
            "error": "Error: before() threw",
        },
    ]
    report = tmp_path / "events.jsonl"
    report.write_text("\n".join(json.dumps(e) for e in events))
    parsed = streams.parse_node_events(report, tmp_path)
    assert parsed.cases == {
        "test/broken.test.js::(load)": "failed",
        "test/math.test.js::add": "failed",
        "test/math.test.js::sub::subtracts": "passed",
        "test/math.test.js::sub::later": "skipped",
        "test/other.test.js::add": "passed",
        "test/other.test.js::hooks": "failed",
    }
    assert "Cannot find module" in parsed.failures["test/broken.test.js::(load)"].message
    assert parsed.failures["test/math.test.js::add"].details.endswith("(test/math.test.js:5:10)")


TAP = """TAP version 13
# Subtest: /work/proj/test/math.test.js
    # Subtest: add
    not ok 1 - add
      ---
      duration_ms: 1.2
      failureType: 'testCodeFailure'
      error: 'Expected values to be strictly equal: -1 !== 5'
      code: 'ERR_ASSERTION'
      stack: |-
        TestContext.<anonymous> (/work/proj/test/math.test.js:5:34)
        Test.run (node:internal/test_runner/test:632:25)
      ...
    # Subtest: sub
        # Subtest: subtracts
        ok 1 - subtracts
          ---
          duration_ms: 0.1
          ...
        1..1
    ok 2 - sub
      ---
      duration_ms: 0.3
      ...
    # Subtest: later
    ok 3 - later # SKIP
    1..3
not ok 1 - /work/proj/test/math.test.js
  ---
  duration_ms: 40
  ...
1..1
# tests 3
# pass 1
# fail 1
"""


def test_node_tap_before_node_20():
    parsed = streams.parse_tap(TAP, CWD)
    assert parsed.cases == {
        "test/math.test.js::add": "failed",
        "test/math.test.js::sub::subtracts": "passed",
        "test/math.test.js::later": "skipped",
    }
    assert "-1 !== 5" in parsed.failures["test/math.test.js::add"].message


# ------------------------------------------------------------------------------------ text: unittest, cargo
UNITTEST = """test_a (tests.test_ops.TestOps.test_a) ... ok
tests.test_broken (unittest.loader._FailedTest.tests.test_broken) ... ERROR
test_add (tests.test_ops.TestOps.test_add)
Adds two numbers. ... FAIL
test_noisy (tests.test_ops.TestOps.test_noisy) ... printed by the test
ok
test_skip (tests.test_ops.TestOps) ... skipped 'later'
test_sub (tests.test_ops.TestOps.test_sub) ...
  test_sub (tests.test_ops.TestOps.test_sub) (i=2) ... FAIL

======================================================================
ERROR: tests.test_broken (unittest.loader._FailedTest.tests.test_broken)
----------------------------------------------------------------------
ImportError: Failed to import test module: tests.test_broken
Traceback (most recent call last):
  File "/usr/lib/python3.11/unittest/loader.py", line 419, in _find_test_path
    module = self._get_module_from_name(name)
  File "/work/proj/tests/test_broken.py", line 1, in <module>
    import nonexistent
ModuleNotFoundError: No module named 'nonexistent'

======================================================================
FAIL: test_add (tests.test_ops.TestOps.test_add)
Adds two numbers.
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/work/proj/tests/test_ops.py", line 6, in test_add
    self.assertEqual(add(2, 3), 5)
AssertionError: -1 != 5

----------------------------------------------------------------------
Ran 6 tests in 0.002s

FAILED (failures=2, errors=1, skipped=1)
"""


def test_unittest_verbose_text():
    parsed = textreports.parse_unittest(UNITTEST, CWD)
    assert parsed.cases == {
        "tests.test_ops.TestOps::test_a": "passed",
        "tests.test_broken::(load)": "failed",
        "tests.test_ops.TestOps::test_add": "failed",
        "tests.test_ops.TestOps::test_noisy": "passed",
        "tests.test_ops.TestOps::test_skip": "skipped",
        "tests.test_ops.TestOps::test_sub": "failed",
    }
    add = parsed.failures["tests.test_ops.TestOps::test_add"]
    assert add.message == "AssertionError: -1 != 5" and 'File "tests/test_ops.py", line 6' in add.details
    assert "loader.py" not in parsed.failures["tests.test_broken::(load)"].details
    assert textreports.parse_unittest("....\nOK\n", CWD) is None  # not verbose: nothing to read per test


def test_unittest_for_real(tmp_path):
    """python's own unittest, through the adapter: `-v` is added and the ids match pytest's for the same tests."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/__init__.py").write_text("")
    (tmp_path / "tests/test_ops.py").write_text(
        "import unittest\n\nclass TestOps(unittest.TestCase):\n    def test_add(self):\n"
        "        self.assertEqual(1 + 1, 3)\n\n"
        "    def test_sub(self):\n        self.assertEqual(3 - 1, 2)\n"
    )
    command = f'"{sys.executable}" -m unittest'
    assert detect_runner(command, tmp_path).name == "unittest"
    run, failures = run_test_command(SubprocessRunner(), tmp_path, command, tmp_path / "tmp", 30)
    assert run.cases == {"tests.test_ops.TestOps::test_add": "failed", "tests.test_ops.TestOps::test_sub": "passed"}
    assert (
        run.result.command == command
        and failures["tests.test_ops.TestOps::test_add"].message == "AssertionError: 2 != 3"
    )


CARGO = """   Compiling calc v0.1.0 (/work/proj)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.61s
     Running unittests src/lib.rs (target/debug/deps/calc-3f2a9c1d0b7e4f11)

running 3 tests
test ops::tests::adds ... FAILED
test ops::tests::subtracts ... ok
test legacy::tests::slow ... ignored, needs a database

failures:

---- ops::tests::adds stdout ----

thread 'ops::tests::adds' (4242) panicked at src/ops.rs:9:9:
assertion `left == right` failed
  left: -1
 right: 5
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    ops::tests::adds

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/api.rs (target/debug/deps/api-0a1b2c3d4e5f6071)

running 1 test
test adds ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests calc

running 2 tests
test src/lib.rs - add (line 5) ... ok
test src/lib.rs - add (line 12) ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.12s

error: 1 target failed:
    `--lib`
"""
CARGO_BUILD_ERROR = """   Compiling calc v0.1.0 (/work/proj)
error[E0425]: cannot find value `c` in this scope
 --> src/ops.rs:2:9
  |
2 |     a + c
  |         ^ help: a local variable with a similar name exists: `a`

For more information about this error, try `rustc --explain E0425`.
error: could not compile `calc` (lib test) due to 1 previous error
"""


def test_cargo_text():
    parsed = textreports.parse_cargo(CARGO, CWD)
    assert parsed.cases == {
        "src/lib.rs::ops::tests::adds": "failed",
        "src/lib.rs::ops::tests::subtracts": "passed",
        "src/lib.rs::legacy::tests::slow": "skipped",
        "tests/api.rs::adds": "passed",
        "src/lib.rs::add (doctest)": "passed",
        "src/lib.rs::add (doctest) #2": "passed",
    }
    adds = parsed.failures["src/lib.rs::ops::tests::adds"]
    assert (
        adds.message
        == "thread 'ops::tests::adds' panicked at src/ops.rs:9:9: / assertion `left == right` failed / left: -1"
    )  # no thread id
    built = textreports.parse_cargo(CARGO_BUILD_ERROR, CWD)
    assert (
        built.cases == {"calc::(build)": "failed"}
        and "cannot find value `c`" in built.failures["calc::(build)"].message
    )
    assert textreports.parse_cargo("error: no such command: `tset`\n", CWD) is None


# ------------------------------------------------------------------------------------ detection and commands
@pytest.mark.parametrize(
    "command,package_json,name,per_test",
    [
        ("python -m pytest -q", None, "pytest", True),
        ("python3 -m unittest discover -s tests", None, "unittest", True),
        ("node --test test/", None, "node --test", True),
        ("npx jest --ci", None, "jest", True),
        ("npx vitest run", None, "vitest", True),
        ("npm test", {"test": "node --test"}, "node --test via npm test", True),
        ("npm run test", {"test": "tsc -p . && vitest run"}, "vitest via npm test", True),
        ("pnpm test", {"test": "mocha 'test/**/*.spec.js'"}, "mocha via pnpm test", True),
        ("yarn test", {"test": "react-scripts test"}, "jest via yarn test", True),
        ("npm test", {"test": "jest && eslint ."}, "npm test", False),  # flags after -- would reach eslint
        ("npm test", {"test": "./run-tests.sh"}, "npm test", False),
        ("go test ./...", None, "go test", True),
        ("cd svc && go test -race ./...", None, "go test", True),
        ("cargo test --all-features", None, "cargo test", True),
        ("cargo +nightly test", None, "cargo test", True),
        ("mvn -q test", None, "maven surefire", True),
        ("./gradlew test", None, "gradle", True),
        ("tox -e py311", None, "tox", False),
        ("make test", None, "make", False),
    ],
)
def test_detect_runner(tmp_path, command, package_json, name, per_test):
    if package_json is not None:
        (tmp_path / "package.json").write_text(json.dumps({"scripts": package_json}))
    adapter = detect_runner(command, tmp_path)
    assert (adapter.name, adapter.per_test) == (name, per_test)
    if not per_test:
        assert "validate.junit_xml" in adapter.why


def test_junit_xml_config_overrides_detection(tmp_path):
    adapter = detect_runner("tox -e py311", tmp_path, "reports/*.xml")
    assert isinstance(adapter, JUnitFiles) and adapter.watch == "reports/*.xml" and adapter.per_test


REPORT = Path("/r/report.out")


@pytest.mark.parametrize(
    "command,scripts,only,expected",
    [
        ("go test ./...", None, None, "go test -json ./..."),
        ("go test -json ./...", None, None, "go test -json ./..."),
        ("cargo test", None, None, "cargo test --no-fail-fast"),
        (
            "cargo test -q -- --nocapture",
            None,
            None,
            "cargo test --no-fail-fast -- --nocapture",
        ),  # -q hides the per-test lines
        ("cargo test", None, "tests/tieragent_repro.rs", "cargo test --test tieragent_repro --no-fail-fast"),
        (
            "npx jest",
            None,
            "src/tieragent_repro.test.ts",
            "npx jest --json --outputFile=/r/report.out src/tieragent_repro.test.ts",
        ),
        ("npm test", {"test": "jest"}, None, "npm test -- --json --outputFile=/r/report.out"),
        ("npm test -- --coverage", {"test": "jest"}, None, "npm test -- --coverage --json --outputFile=/r/report.out"),
        (
            "yarn test",
            {"test": "vitest run"},
            None,
            "yarn test --reporter=default --reporter=junit --outputFile.junit=/r/report.out",
        ),
        ("npm test", {"test": "mocha"}, None, "npm test -- --reporter xunit --reporter-options output=/r/report.out"),
    ],
)
def test_reporter_flags(tmp_path, command, scripts, only, expected):
    if scripts is not None:
        (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts}))
    assert detect_runner(command, tmp_path).command(command, REPORT, only, tmp_path) == expected


def test_node_reporter_travels_in_node_options(tmp_path):
    """Flags after `node --test test/` would be taken for test files, so node's reporters go in NODE_OPTIONS,
    exported so that a `node --test` anywhere in a script gets them."""
    command = NodeTest("node --test", major=20).command(
        "cd app && node --test test/", tmp_path / "report.out", None, tmp_path
    )
    assert (
        command.startswith('NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }"')
        and "export NODE_OPTIONS; cd app && node --test test/" in command
    )
    assert (
        f'--test-reporter-destination="{tmp_path / "report.out"}"' in command
        and (tmp_path / "report.reporter.mjs").is_file()
    )
    assert (
        NodeTest("node --test", major=18).command("node --test", tmp_path / "r.out", None, tmp_path) == "node --test"
    )  # TAP on stdout


def test_go_runs_one_test_file(tmp_path):
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc/tieragent_repro_test.go").write_text(
        "package calc\n\nfunc TestReproAdd(t *testing.T) {}\nfunc TestReproNeg(t *testing.T) {}\n"
    )
    command = GoTest("go test").command("go test -race ./...", REPORT, "calc/tieragent_repro_test.go", tmp_path)
    assert command == "go test -json -race ./calc -run '^(TestReproAdd|TestReproNeg)$'"


def test_last_segment_ignores_quoted_operators():
    assert last_segment_start("cd a && echo 'x && y' ; pytest") == len("cd a && echo 'x && y' ;")
    assert Pytest("pytest").owns("tests.test_tieragent_repro::test_x", "tests/test_tieragent_repro.py", CWD)
    assert CargoTest("cargo test").owns("tests/tieragent_repro.rs::adds", "tests/tieragent_repro.rs", CWD)
    assert (
        isinstance(detect_runner("npm test", CWD), Script) is False
    )  # no package.json: nothing to read the runner from
    assert detect_runner("gradle test", CWD).watch == GRADLE_REPORTS


# ------------------------------------------------------------------------------------ target tests across ecosystems
@pytest.mark.parametrize(
    "failing,request_text,picked,expected",
    [
        (
            {"test/math.test.js::add::sums", "test/legacy.test.js::parses dates"},
            "add() is wrong",
            ["src/math.js"],
            {"test/math.test.js::add::sums"},
        ),
        (
            {"src/math.spec.ts::math::adds", "src/date.spec.ts::formats"},
            "fix it",
            ["src/math.ts"],
            {"src/math.spec.ts::math::adds"},
        ),
        (
            {"calc/ops_test.go::TestAdd", "calc/legacy_test.go::TestParseDate"},
            "fix it",
            ["calc/ops.go"],
            {"calc/ops_test.go::TestAdd"},
        ),
        (
            {"src/lib.rs::ops::tests::adds", "src/lib.rs::legacy::tests::dates"},
            "fix it",
            ["src/ops.rs"],
            {"src/lib.rs::ops::tests::adds"},
        ),
        (
            {"src/lib.rs::ops::tests::adds", "src/lib.rs::legacy::tests::dates"},
            "fix it",
            ["src/ops/mod.rs"],
            {"src/lib.rs::ops::tests::adds"},
        ),
        (
            {"com.example.CalcTest::testAdd", "com.example.DateTest::testParse"},
            "fix it",
            ["src/main/java/com/example/Calc.java"],
            {"com.example.CalcTest::testAdd"},
        ),
        (
            {"com.example.CalcTest::testAdd", "com.example.DateTest::testParse"},
            "TestAdd is red",
            [],
            {"com.example.CalcTest::testAdd"},
        ),
        ({"test/a.test.js::x", "test/b.test.js::y"}, "the tests in test/b.test.js fail", [], {"test/b.test.js::y"}),
        # lib.rs says nothing about which tests are about it: every failing test stays a candidate
        (
            {"src/lib.rs::ops::tests::adds", "src/lib.rs::legacy::tests::dates"},
            "fix it",
            ["src/lib.rs"],
            {"src/lib.rs::ops::tests::adds", "src/lib.rs::legacy::tests::dates"},
        ),
    ],
)
def test_target_tests_by_ecosystem_convention(failing, request_text, picked, expected):
    assert target_tests(failing, request_text, picked)[0] == expected


# ------------------------------------------------------------------------------------ lint formats
RUFF_JSON = [
    {
        "code": "F401",
        "message": "`os` imported but unused",
        "filename": "{root}/calc/ops.py",
        "location": {"row": 1, "column": 8},
    },
    {
        "code": "E501",
        "message": "Line too long (120 > 100)",
        "filename": "{root}/other.py",
        "location": {"row": 3, "column": 101},
    },
]
ESLINT_JSON = [
    {
        "filePath": "{root}/src/math.js",
        "messages": [
            {
                "ruleId": "no-unused-vars",
                "severity": 2,
                "message": "'x' is assigned a value but never used",
                "line": 2,
                "column": 7,
            }
        ],
        "errorCount": 1,
    }
]
GOLANGCI_JSON = {
    "Issues": [
        {
            "FromLinter": "errcheck",
            "Text": "Error return value of `f.Close` is not checked",
            "Pos": {"Filename": "calc/ops.go", "Line": 14, "Column": 9},
        }
    ],
    "Report": {},
}
CLIPPY_JSON = [
    {"reason": "compiler-artifact", "package_id": "calc 0.1.0"},
    {
        "reason": "compiler-message",
        "message": {
            "$message_type": "diagnostic",
            "level": "warning",
            "message": "unneeded `return` statement",
            "code": {"code": "clippy::needless_return"},
            "spans": [{"file_name": "src/ops.rs", "line_start": 3, "is_primary": True}],
        },
    },
    {
        "reason": "compiler-message",
        "message": {"level": "warning", "message": "1 warning emitted", "code": None, "spans": []},
    },
    {"reason": "build-finished", "success": True},
]
ESLINT_STYLISH = """
{root}/src/math.js
  2:7  error  'x' is assigned a value but never used  no-unused-vars
  5:1  warning  Unexpected console statement  no-console

✖ 2 problems (1 error, 1 warning)
"""


@pytest.mark.parametrize(
    "output,expected",
    [
        (
            json.dumps(RUFF_JSON),
            [("calc/ops.py", 1, "F401 `os` imported but unused"), ("other.py", 3, "E501 Line too long (120 > 100)")],
        ),
        (
            "npx: installed 1\n" + json.dumps(ESLINT_JSON),
            [("src/math.js", 2, "no-unused-vars 'x' is assigned a value but never used")],
        ),
        (
            'level=warning msg="[runner] ..."\n' + json.dumps(GOLANGCI_JSON),
            [("calc/ops.go", 14, "Error return value of `f.Close` is not checked (errcheck)")],
        ),
        (
            "\n".join(json.dumps(m) for m in CLIPPY_JSON),
            [("src/ops.rs", 3, "clippy::needless_return unneeded `return` statement")],
        ),
        (
            ESLINT_STYLISH,
            [
                ("src/math.js", 2, "no-unused-vars 'x' is assigned a value but never used"),
                ("src/math.js", 5, "no-console Unexpected console statement"),
            ],
        ),
        (
            "calc/ops.py:3:1: T100 TODO\n./calc/ops.py:9:5: E501 too long\nFound 2 errors.",
            [("calc/ops.py", 3, "T100 TODO"), ("calc/ops.py", 9, "E501 too long")],
        ),
    ],
)
def test_lint_formats(tmp_path, output, expected):
    output = output.replace("{root}", str(tmp_path))
    assert lint_locations(output, tmp_path) == expected
    assert sorted(lint_problems(readable(output, tmp_path), {p for p, _, _ in expected}, tmp_path)) == sorted(
        {(p, m) for p, _, m in expected}
    )


def test_json_lint_output_reads_as_lines_for_a_model(tmp_path):
    text = readable(json.dumps(RUFF_JSON).replace("{root}", str(tmp_path)), tmp_path)
    assert text.splitlines()[0] == "calc/ops.py:1: F401 `os` imported but unused" and str(tmp_path) not in text
    assert readable("calc/ops.py:3:1: T100 TODO", tmp_path) == "calc/ops.py:3:1: T100 TODO"


# ------------------------------------------------------------------------------------ failure output per runner
JEST_TEXT = """FAIL src/math.test.ts
  ● math › adds

    expect(received).toBe(expected) // Object.is equality

    Expected: 5
    Received: -1

      4 |   test('adds', () => {
    > 5 |     expect(add(2, 3)).toBe(5);
        |                       ^
      6 |   });

      at Object.<anonymous> (src/math.test.ts:5:23)
      at Promise.then.completed (node_modules/jest-circus/build/utils.js:298:28)

PASS src/date.test.ts
Tests:       1 failed, 4 passed, 5 total
"""
GO_TEXT = """=== RUN   TestAdd
    ops_test.go:9: Add(2, 3) = -1, want 5
--- FAIL: TestAdd (0.00s)
=== RUN   TestSub
--- PASS: TestSub (0.00s)
panic: runtime error: index out of range [3] with length 3 [recovered]
goroutine 7 [running]:
testing.tRunner.func1.2({0x1029e0, 0xc000016108})
	/usr/local/go/src/testing/testing.go:1545 +0x238
example.com/calc.Pick(...)
	/work/proj/calc/ops.go:12 +0x1d
FAIL
FAIL	example.com/calc	0.004s
ok  	example.com/calc/date	0.002s
"""


@pytest.mark.parametrize(
    "output,kept,dropped",
    [
        (
            JEST_TEXT,
            ["● math › adds", "Received: -1", "> 5 |", "(src/math.test.ts:5:23)"],
            ["node_modules", "PASS src/date", "4 |   test"],
        ),
        (
            GO_TEXT,
            [
                "ops_test.go:9: Add(2, 3) = -1, want 5",
                "--- FAIL: TestAdd",
                "panic: runtime error",
                "/work/proj/calc/ops.go:12",
            ],
            ["=== RUN", "--- PASS", "/usr/local/go/src", "ok  \texample.com/calc/date"],
        ),
        (
            CARGO,
            ["---- ops::tests::adds stdout ----", "left: -1", "test result: FAILED", "    ops::tests::adds"],
            ["test ops::tests::subtracts ... ok", "Compiling"],
        ),
        (CARGO_BUILD_ERROR, ["error[E0425]: cannot find value `c`", "--> src/ops.rs:2:9"], ["Compiling"]),
        (
            TAP,
            ["not ok 1 - add", "-1 !== 5", "(/work/proj/test/math.test.js:5:34)"],
            ["node:internal", "ok 1 - subtracts"],
        ),
    ],
)
def test_condense_per_runner(output, kept, dropped):
    out = condense(output)
    for text in kept:
        assert text in out, (text, out)
    for text in dropped:
        assert text not in out, (text, out)


def test_failures_from_a_report_go_to_the_model_as_they_are():
    text = render_failures(
        {"test/math.test.js::add": "AssertionError: -1 !== 5\n    at TestContext.<anonymous> (test/math.test.js:5:10)"},
        "noise\nℹ tests 3\nℹ fail 1\n",
    )
    assert text.startswith(REPORT_HEADER) and "--- test/math.test.js::add" in text and "ℹ fail 1" in text
    assert condense(text) == text


# ------------------------------------------------------------------------------------ --repro files per ecosystem
def test_repro_files_follow_each_ecosystem(tmp_path):
    from tieragent.judge.repro_files import repro_spec
    from tieragent.judge.runners import Jest

    (tmp_path / "calc").mkdir()
    (tmp_path / "calc/ops.go").write_text(
        "// Package calc adds.\npackage calc\n\nfunc Add(a, b int) int { return a - b }\n"
    )
    go = repro_spec(GoTest("go test"), tmp_path, ["README.md", "calc/ops.go"])
    assert go.path == "calc/tieragent_repro_test.go" and "package calc" in go.conventions
    (tmp_path / "src").mkdir()
    (tmp_path / "src/math.spec.ts").write_text("")
    (tmp_path / "src/date.spec.ts").write_text("")
    js = repro_spec(Jest("jest"), tmp_path, [])
    assert js.path == "src/tieragent_repro.test.ts" and "jest" in js.conventions and "import" in js.conventions
    assert "no library crate" in repro_spec(CargoTest("cargo test"), tmp_path, [])
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "my-calc"\nversion = "0.1.0"\n')
    (tmp_path / "src/lib.rs").write_text("")
    rs = repro_spec(CargoTest("cargo test"), tmp_path, [])
    assert rs.path == "tests/tieragent_repro.rs" and "use my_calc::" in rs.conventions
    assert "--repro needs" in repro_spec(detect_runner("make test", tmp_path), tmp_path, [])


def test_a_runner_that_ran_no_tests_cannot_judge():
    from tieragent.judge.testresults import TestRun, unusable_baseline
    from tieragent.repo.runner import CommandResult

    empty = TestRun(CommandResult("go test ./...", 0, "", 0.1), {})
    assert "ran no tests" in unusable_baseline(empty, repro=False)
    assert unusable_baseline(empty, repro=True) is None  # the repro test will be the first


def test_go_before_1_24_a_package_that_does_not_compile_is_a_failing_build(tmp_path):
    """Go 1.19 to 1.23 (Debian and Ubuntu LTS ship them) write no JSON event for a package that does
    not compile: a plain `FAIL <pkg> [build failed]` line on stdout, the compiler on stderr."""
    (tmp_path / "go.mod").write_text(GO_MOD)
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc/ops_test.go").write_text("package calc\n\nfunc TestAdd(t *testing.T) {}\n")
    alone = (
        "FAIL\texample.com/calc/calc [build failed]\n# example.com/calc/calc [example.com/calc/calc.test]\n"
        "calc/ops.go:3:37: syntax error: unexpected }\n"
    )
    parsed = streams.parse_go(alone, tmp_path)
    assert parsed is not None and parsed.cases == {"calc::(build)": "failed"}
    assert "syntax error" in parsed.failures["calc::(build)"].details
    ok_package = [
        {"Action": "pass", "Package": "example.com/calc/other", "Test": "TestOther"},
        {"Action": "pass", "Package": "example.com/calc/other"},
    ]
    mixed = "\n".join(json.dumps(e) for e in ok_package) + "\n" + alone
    assert streams.parse_go(mixed, tmp_path).cases == {"other::TestOther": "passed", "calc::(build)": "failed"}
