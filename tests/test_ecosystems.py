"""Per-test validation beyond pytest, with real runners where this machine has them: `node --test`
through `npm test`, and `cargo test`, each on a repository with one long-broken unrelated test.
In-process fix runs with scripted model replies (tests/flowkit.py). Also the red-baseline stop,
`validate.junit_xml`, and --repro for node and Rust."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import CLASSIFY_OPS, GOOD_PATCH, make_repo, snapshot
from flowkit import TEST_RUN_ENV, config, fix, outcomes, scripted, sent

from tieragent.cli.wiring import validation_runner
from tieragent.core.errors import ExitCode

# ------------------------------------------------------------------------------------ node --test through npm test
JS_FILES = {
    "package.json": json.dumps(
        {"name": "calc-js", "version": "1.0.0", "private": True, "scripts": {"test": "node --test"}}
    ),
    "src/math.js": (
        "'use strict';\n\nfunction add(a, b) {\n  return a - b;\n}\n\nfunction sub(a, b) {\n"
        "  return a - b;\n}\n\nmodule.exports = { add, sub };\n"
    ),
    "test/math.test.js": (
        "const test = require('node:test');\nconst assert = require('node:assert/strict');\n"
        "const { add, sub } = require('../src/math');\n\n"
        "test('add returns the sum', () => {\n  assert.equal(add(2, 3), 5);\n});\n\n"
        "test('sub returns the difference', () => {\n  assert.equal(sub(5, 3), 2);\n});\n"
    ),
    # broken for as long as anyone remembers, and nothing to do with the request
    "test/legacy.test.js": (
        "const test = require('node:test');\nconst assert = require('node:assert/strict');\n\n"
        "test('legacy importer reads the old export format', () => {\n"
        "  assert.fail('needs the 2019 export fixtures');\n});\n"
    ),
    ".gitignore": "node_modules/\n",
}
CLASSIFY_JS = '{"task_class": "local", "risk": "low", "files": ["src/math.js"], "reason": "add subtracts"}'
GOOD_JS = """```diff
--- a/src/math.js
+++ b/src/math.js
@@ -3,3 +3,3 @@
 function add(a, b) {
-  return a - b;
+  return a + b;
 }
```"""
BREAKS_SUB_JS = (
    GOOD_JS.rstrip("`\n")
    + """
@@ -7,3 +7,3 @@
 function sub(a, b) {
-  return a - b;
+  return a + b;
 }
```"""
)
REPRO_JS = """```test/tieragent_repro.test.js
const test = require('node:test');
const assert = require('node:assert/strict');
const { add } = require('../src/math');

test('add(1, 1) is 2', () => {
  assert.equal(add(1, 1), 2);
});
```"""
NPM = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")), reason="node and npm are not installed here"
)
NPM_ENV = {**TEST_RUN_ENV, "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false", "NO_COLOR": "1"}


def npm_fix(repo: Path, script: dict, **options):
    cfg = config({"validate": {"test": "npm test"}})
    return fix(repo, scripted(script, cfg), cfg=cfg, runner=validation_runner(cfg).with_env(NPM_ENV), **options)


@pytest.fixture
def js_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "js", JS_FILES)


@NPM
def test_node_right_patch_validates_at_mid_despite_a_long_broken_test(js_repo):
    result = npm_fix(js_repo, {("classify", "small"): [CLASSIFY_JS], ("patch", "mid"): [GOOD_JS]})
    assert result.status == "fixed", result.error
    assert outcomes(result) == [("mid", "ok")]
    assert result.baseline["runner"] == "node --test via npm test"
    assert result.baseline["tests"]["failing"] == [
        "test/legacy.test.js::legacy importer reads the old export format",
        "test/math.test.js::add returns the sum",
    ]
    checks = result.validation.checks["tests"]
    assert checks["targets"] == ["test/math.test.js::add returns the sum"] and checks["fixed"] == [
        "test/math.test.js::add returns the sum"
    ]
    assert "a + b" in (js_repo / "src/math.js").read_text()


@NPM
def test_node_patch_that_breaks_a_passing_test_is_refused(js_repo):
    provider_script = {("classify", "small"): [CLASSIFY_JS], ("patch", "mid"): [BREAKS_SUB_JS, GOOD_JS]}
    cfg = config({"validate": {"test": "npm test"}})
    provider = scripted(provider_script, cfg)
    result = fix(js_repo, provider, cfg=cfg, runner=validation_runner(cfg).with_env(NPM_ENV))
    assert outcomes(result) == [("mid", "tests-failed"), ("mid", "ok")]
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert "passed before now fail: test/math.test.js::sub returns the difference" in first.note
    retry = sent(provider, "patch", 1)  # the report's failure, cut to what matters, goes back to the model
    assert (
        "--- test/math.test.js::sub returns the difference" in retry
        and "8 !== 2" in retry
        and "node:internal" not in retry
    )


@NPM
def test_node_repro_reproduces_then_passes_after_the_patch(js_repo):
    result = npm_fix(
        js_repo,
        {("classify", "small"): [CLASSIFY_JS], ("repro", "mid"): [REPRO_JS], ("patch", "mid"): [GOOD_JS]},
        repro=True,
    )
    assert result.status == "fixed", result.error
    assert result.repro["status"] == "reproduces" and result.repro["tests"] == [
        "test/tieragent_repro.test.js::add(1, 1) is 2"
    ]
    assert not (js_repo / "test/tieragent_repro.test.js").exists() and "tieragent_repro" not in result.patch


# ------------------------------------------------------------------------------------ go test
GO_FILES = {
    "go.mod": "module example.com/calc\n\ngo 1.19\n",
    "calc/ops.go": (
        "package calc\n\nfunc Add(a, b int) int {\n\treturn a - b\n}\n\nfunc Sub(a, b int) int {\n\treturn a - b\n}\n"
    ),
    "calc/ops_test.go": (
        'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n'
        '\t\tt.Fatalf("Add(2, 3) = %d", Add(2, 3))\n\t}\n}\n\n'
        'func TestSub(t *testing.T) {\n\tt.Run("small", func(t *testing.T) {\n\t\tif Sub(5, 3) != 2 {\n'
        '\t\t\tt.Fatal("sub")\n\t\t}\n\t})\n}\n'
    ),
}
CLASSIFY_GO = '{"task_class": "local", "risk": "low", "files": ["calc/ops.go"], "reason": "Add subtracts"}'
GOOD_GO = """```diff
--- a/calc/ops.go
+++ b/calc/ops.go
@@ -3,3 +3,3 @@
 func Add(a, b int) int {
-\treturn a - b
+\treturn a + b
 }
```"""
NO_BUILD_GO = GOOD_GO.replace("+\treturn a + b", "+\treturn a +")
GO = pytest.mark.skipif(not shutil.which("go"), reason="go is not installed here")


@pytest.fixture
def go_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "go", GO_FILES)


def go_fix(repo: Path, script: dict):
    cfg = config({"validate": {"test": "go test ./...", "timeout_s": 120}})
    cache = repo.parent / "go-cache"
    env = {
        **TEST_RUN_ENV,
        "GOCACHE": str(cache / "build"),
        "GOPATH": str(cache / "path"),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
    }
    provider = scripted(script, cfg)
    return fix(repo, provider, cfg=cfg, runner=validation_runner(cfg).with_env(env)), provider


@GO
def test_go_a_patch_that_does_not_compile_is_refused_then_the_right_one_validates(go_repo):
    """Real `go test -json`: per-test ids from the test files, and a package that does not compile
    as `calc::(build)` (Go before 1.24 reports it only as a plain FAIL line)."""
    result, provider = go_fix(go_repo, {("classify", "small"): [CLASSIFY_GO], ("patch", "mid"): [NO_BUILD_GO, GOOD_GO]})
    assert result.status == "fixed", result.error
    assert result.baseline["tests"]["failing"] == ["calc/ops_test.go::TestAdd"]
    assert outcomes(result) == [("mid", "tests-failed"), ("mid", "ok")]
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert first.note == "new test(s) fail: calc::(build)"
    assert "syntax error" in sent(provider, "patch", 1)  # the compiler's words reach the retry
    assert result.validation.checks["tests"]["targets"] == ["calc/ops_test.go::TestAdd"]


# ------------------------------------------------------------------------------------ cargo test
RS_FILES = {
    "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/lib.rs": "pub mod legacy;\npub mod ops;\n",
    "src/ops.rs": (
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n\n"
        "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n"
        "        assert_eq!(add(2, 3), 5);\n    }\n\n"
        "    #[test]\n    fn subtracts() {\n        assert_eq!(sub(5, 3), 2);\n    }\n}\n"
    ),
    "src/legacy.rs": (
        "pub fn parse_date(s: &str) -> Option<u32> {\n    s.parse().ok()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n"
        '    fn parses_dates() {\n        assert_eq!(super::parse_date("2024-01-01"), Some(20240101));\n    }\n}\n'
    ),
    ".gitignore": "/target\nCargo.lock\n",
}
CLASSIFY_RS = '{"task_class": "local", "risk": "low", "files": ["src/ops.rs"], "reason": "add subtracts"}'
GOOD_RS = """```diff
--- a/src/ops.rs
+++ b/src/ops.rs
@@ -1,3 +1,3 @@
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
```"""
BREAKS_SUB_RS = (
    GOOD_RS.rstrip("`\n")
    + """
@@ -5,3 +5,3 @@
 pub fn sub(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
```"""
)
REPRO_RS = """```tests/tieragent_repro.rs
use calc::ops::add;

#[test]
fn add_one_and_one() {
    assert_eq!(add(1, 1), 2);
}
```"""
CARGO = pytest.mark.skipif(not shutil.which("cargo"), reason="cargo is not installed here")


@pytest.fixture(scope="session")
def cargo_target(tmp_path_factory) -> str:
    """One target directory for every crate of the session: the standard library's artifacts are built once."""
    return str(tmp_path_factory.mktemp("cargo-target"))


def cargo_fix(repo: Path, target: str, script: dict, **options):
    cfg = config({"validate": {"test": "cargo test", "timeout_s": 120}})
    env = {
        **TEST_RUN_ENV,
        "CARGO_TARGET_DIR": target,
        "CARGO_TERM_COLOR": "never",
        "RUST_BACKTRACE": "0",
        "CARGO_INCREMENTAL": "1",
    }
    provider = scripted(script, cfg)
    return fix(repo, provider, cfg=cfg, runner=validation_runner(cfg).with_env(env), **options), provider


@pytest.fixture
def rs_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "rs", RS_FILES)


@CARGO
def test_cargo_right_patch_validates_at_mid_despite_a_long_broken_test(rs_repo, cargo_target):
    result, _ = cargo_fix(rs_repo, cargo_target, {("classify", "small"): [CLASSIFY_RS], ("patch", "mid"): [GOOD_RS]})
    assert result.status == "fixed", result.error
    assert outcomes(result) == [("mid", "ok")]
    assert result.baseline["tests"]["failing"] == [
        "src/lib.rs::legacy::tests::parses_dates",
        "src/lib.rs::ops::tests::adds",
    ]
    assert result.validation.checks["tests"]["targets"] == ["src/lib.rs::ops::tests::adds"]


@CARGO
def test_cargo_patch_that_breaks_a_passing_test_is_refused(rs_repo, cargo_target):
    script = {("classify", "small"): [CLASSIFY_RS], ("patch", "mid"): [BREAKS_SUB_RS, GOOD_RS]}
    result, provider = cargo_fix(rs_repo, cargo_target, script)
    assert outcomes(result) == [("mid", "tests-failed"), ("mid", "ok")]
    first = next(r for r in result.ledger.rows if r.step == "patch")
    assert "passed before now fail: src/lib.rs::ops::tests::subtracts" in first.note
    retry = sent(provider, "patch", 1)
    assert "--- src/lib.rs::ops::tests::subtracts" in retry and "left: 8" in retry


@CARGO
def test_cargo_repro_is_an_integration_test(rs_repo, cargo_target):
    script = {("classify", "small"): [CLASSIFY_RS], ("repro", "mid"): [REPRO_RS], ("patch", "mid"): [GOOD_RS]}
    result, provider = cargo_fix(rs_repo, cargo_target, script, repro=True)
    assert result.status == "fixed", result.error
    assert result.repro["tests"] == ["tests/tieragent_repro.rs::add_one_and_one"]
    assert "use calc::...;" in sent(provider, "repro", 0)  # the prompt speaks Rust, not pytest
    assert not (rs_repo / "tests/tieragent_repro.rs").exists()


# ----------------------------------------------------------- a red baseline that cannot be judged
def exit_code_script(tmp_path: Path) -> str:
    """A test command tieragent cannot read per test: it fails until add() adds."""
    script = tmp_path / "check.py"
    script.write_text("import pathlib, sys\nsys.exit(0 if 'a + b' in pathlib.Path('calc/ops.py').read_text() else 1)\n")
    return f'"{sys.executable}" "{script}"'


PYTEST_JUNIT = f'"{sys.executable}" -m pytest -q -p no:cacheprovider --junitxml=reports/junit.xml'


@pytest.mark.parametrize(
    "validate,options,status,exit_code,patches",
    [
        # red, no per-test results: stop before the patch (written while the baseline ran) is applied, naming
        # what to configure
        ({"test": "SCRIPT"}, {}, "error", ExitCode.USAGE, [("mid", "discarded")]),
        # ... unless --exit-code-only: then the whole command must pass
        ({"test": "SCRIPT"}, {"exit_code_only": True}, "fixed", ExitCode.FIXED, [("mid", "ok")]),
        # any runner that writes JUnit XML, through validate.junit_xml: judged per test
        ({"test": PYTEST_JUNIT, "junit_xml": "reports/*.xml"}, {}, "fixed", ExitCode.FIXED, [("mid", "ok")]),
        # per-test results: a red baseline is fine
        ({}, {}, "fixed", ExitCode.FIXED, [("mid", "ok")]),
    ],
)
def test_red_baseline_without_per_test_results(calc_repo, tmp_path, validate, options, status, exit_code, patches):
    validate = {k: (exit_code_script(tmp_path) if v == "SCRIPT" else v) for k, v in validate.items()}
    cfg = config({"validate": validate})
    provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]}, cfg)
    before = snapshot(calc_repo)
    result = fix(calc_repo, provider, cfg=cfg, **options)
    assert (result.status, result.exit_code, outcomes(result) if result.ledger else []) == (
        status,
        exit_code,
        patches,
    ), result.error
    if status == "error":
        assert snapshot(calc_repo) == before
        assert (
            "no per-test results" in result.error
            and "validate.junit_xml" in result.error
            and "--exit-code-only" in result.error
        )
    if "junit_xml" in validate:
        assert (
            result.baseline["tests"]["failing"] == ["tests.test_ops::test_add"]
            and result.baseline["runner"] == "validate.junit_xml"
        )


# ------------------------------------------------------------------------------------ npm passes the reporter flags on
# A stand-in for jest: it records its arguments and writes a --json report in jest's documented format.
FAKE_JEST = """#!/bin/sh
for a in "$@"; do case "$a" in --outputFile=*) out="${a#--outputFile=}";; esac; done
echo "$@" > args.txt
printf '%s' '{"success": false, "testResults": [{"name": "'"$PWD"'/src/a.test.js", "status": "failed",
  "assertionResults": [
  {"ancestorTitles": ["a"], "title": "works", "status": "passed", "failureMessages": []},
  {"ancestorTitles": ["a"], "title": "breaks", "status": "failed",
   "failureMessages": ["Error: nope\\n    at Object.<anonymous> ('"$PWD"'/src/a.test.js:3:9)"]}]}]}' > "$out"
exit 1
"""


@NPM
def test_npm_passes_the_reporter_flags_to_the_script_command(tmp_path):
    from tieragent.judge.runners import run_test_command
    from tieragent.repo.runner import SubprocessRunner

    (tmp_path / "package.json").write_text(
        json.dumps({"name": "x", "version": "1.0.0", "scripts": {"test": "jest --ci"}})
    )
    jest = tmp_path / "node_modules/.bin/jest"
    jest.parent.mkdir(parents=True)
    jest.write_text(FAKE_JEST)
    jest.chmod(0o755)
    run, failures = run_test_command(SubprocessRunner().with_env(NPM_ENV), tmp_path, "npm test", tmp_path / "tmp", 60)
    assert (tmp_path / "args.txt").read_text().startswith("--ci --json --outputFile=")
    assert run.cases == {"src/a.test.js::a::works": "passed", "src/a.test.js::a::breaks": "failed"}
    assert run.result.command == "npm test" and failures["src/a.test.js::a::breaks"].message == "Error: nope"
    assert failures["src/a.test.js::a::breaks"].details == "Error: nope\n    at Object.<anonymous> (src/a.test.js:3:9)"
