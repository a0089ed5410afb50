"""Issue 18: the action and the shipped workflows treat the pull request, the patch and the checkout
as untrusted. A pull request's head cannot pick where the keys go (the action's script run with the
GitHub variables of pull_request and pull_request_target), a fork's pull request is skipped with a
notice, python never imports from the checkout, and the fix workflow's write token never shares a
job with the model's code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import CALC_FILES, FAKE_KEY, cli_env, git, make_repo, write_config
from fake_openai import FakeOpenAI, Reply
from test_action import (
    ACTION,
    BASH,
    FIX_YML,
    REVIEW_YML,
    SCRIPT,
    inputs_env,
    load,
    needs_bash,
    real_tieragent,
    run_action,
    run_texts,
    triggers,
    work,  # noqa: F401 - a fixture
)

# --- fix.yml: the write token and the model's code never share a job ------------------------


def test_fix_workflow_keeps_the_write_token_away_from_model_code():
    """The job that runs the model's code (the tests proving its patch) can write nothing and keeps no
    token on disk; the job that pushes runs none of it and gives the token to the push step alone."""
    wf = load(FIX_YML)
    assert wf["permissions"] == {"contents": "read"}
    fix, publish = wf["jobs"]["fix"], wf["jobs"]["publish"]
    assert fix["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    assert publish["needs"] == "fix"
    checkouts = [s for job in (fix, publish) for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 2 and all(s["with"]["persist-credentials"] is False for s in checkouts)
    assert "github.token" not in json.dumps(fix) and "GH_TOKEN" not in json.dumps(fix)
    assert not any(s.get("uses", "").startswith("OWNER/tieragent") for s in publish["steps"])
    holders = [s.get("name") for s in publish["steps"] if "GH_TOKEN" in s.get("env", {})]
    assert holders == ["Open a pull request", "Comment on the issue"]
    assert all(s["env"]["GH_TOKEN"] == "${{ github.token }}" for s in publish["steps"] if s.get("name") in holders)
    # Only the patch and the report cross from one job to the other.
    [upload] = [s for s in fix["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"].splitlines() == [
        "${{ steps.fix.outputs.patch-path }}",
        "${{ steps.fix.outputs.json-path }}",
    ]
    assert upload["if"] == "steps.fix.outputs.status == 'fixed'"
    assert fix["outputs"] == {"status": "${{ steps.fix.outputs.status }}", "cost": "${{ steps.fix.outputs.cost }}"}


PUBLISHED_PATCH = """\
diff --git a/calc/ops.py b/calc/ops.py
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,6 +1,6 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
{blank}
{blank}
 def sub(a, b):
diff --git a/json.py b/json.py
new file mode 100644
--- /dev/null
+++ b/json.py
@@ -0,0 +1 @@
+open({marker!r}, "w").write("ran")
"""
FAKE_GH = """\
#!/bin/sh
# Records what the workflow asks of gh (and the PR body it hands over).
printf '%s\\n' "$@" > "$FAKE_GH_ARGS"
while [ $# -gt 0 ]; do
  if [ "$1" = --body-file ]; then cp "$2" "$FAKE_GH_ARGS.body"; fi
  shift
done
"""


@needs_bash
def test_fix_workflow_publish_pushes_exactly_the_patch_and_opens_the_pr(tmp_path):
    """The publish job's script, run in bash on a fresh clone as its checkout would leave it: the branch on
    origin holds the validated patch and nothing else, gh opens the PR with the ledger, python imports
    nothing from the patched tree, and the token is written nowhere."""
    token = "ghs_publishTokenThatMustStayInTheEnvironment0"
    made = make_repo(tmp_path / "made", CALC_FILES)
    git(made, "branch", "-M", "main")  # the repository's default branch, whatever git's default is
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(made), str(origin)], check=True)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(origin), str(checkout)], check=True)
    marker, bin_dir, home, runner_temp = (
        tmp_path / "pwned",
        tmp_path / "bin",
        tmp_path / "home",
        tmp_path / "runner-temp",
    )
    for d in (bin_dir, home, runner_temp / "tieragent-fix"):
        d.mkdir(parents=True)
    patch = runner_temp / "tieragent-fix" / "tieragent.patch"
    patch.write_text(PUBLISHED_PATCH.format(marker=str(marker), blank=" "))  # a blank context line is one space
    report = runner_temp / "tieragent-fix" / "tieragent.json"
    report.write_text(
        json.dumps(
            {
                "status": "fixed",
                "steps": [
                    {
                        "step": "patch",
                        "tier": "mid",
                        "model": "openai/m",
                        "input_tokens": 10,
                        "output_tokens": 5,
                        "cost_usd": 0.0123,
                        "outcome": "ok",
                        "note": "",
                    }
                ],
            }
        )
    )
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for exe in bin_dir.iterdir():
        exe.chmod(0o755)
    publish = load(FIX_YML)["jobs"]["publish"]
    [step] = [s for s in publish["steps"] if s.get("name") == "Open a pull request"]
    script = tmp_path / "publish.sh"
    script.write_text(step["run"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_", "GH_", "RUNNER_"))}
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GH_TOKEN": token,
            "ISSUE_NUMBER": "42",
            "BASE_BRANCH": "main",
            "PATCH_PATH": str(patch),
            "REPORT_PATH": str(report),
            "COST": "0.012300",
            "RUNNER_TEMP": str(runner_temp),
            "FAKE_GH_ARGS": str(tmp_path / "gh-args"),
        }
    )
    # `shell: bash` on a runner is `bash --noprofile --norc -eo pipefail {0}`.
    proc = subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not marker.exists()
    pushed = git(origin, "diff", "HEAD", "tieragent/issue-42")
    assert "+    return a + b" in pushed and "+open(" in pushed
    assert git(origin, "diff", "--stat", "HEAD", "tieragent/issue-42").count("|") == 2  # the patch's two files only
    assert git(origin, "log", "-1", "--format=%s", "tieragent/issue-42").strip() == "tieragent: fix #42"
    assert (tmp_path / "gh-args").read_text().splitlines() == [
        "pr",
        "create",
        "--base",
        "main",
        "--head",
        "tieragent/issue-42",
        "--title",
        "tieragent: fix #42",
        "--body-file",
        str(runner_temp / "pr-body.md"),
    ]
    body = (tmp_path / "gh-args.body").read_text()
    assert "| 1 | patch | mid | openai/m | 10/5 | $0.012300 | ok |  |" in body and body.rstrip().endswith("Fixes #42")
    for root in (checkout, home):
        for f in root.rglob("*"):
            if f.is_file():
                assert token.encode() not in f.read_bytes(), f


def test_fix_workflow_push_credential_helper_hands_git_the_token_from_the_environment(tmp_path):
    """The helper the push is given answers git's `get` with the step's GH_TOKEN, and keeps it nowhere."""
    [script] = [t for t in run_texts(load(FIX_YML)) if "gh pr create" in t]
    [helper] = re.findall(r"-c '(credential\.helper=![^']*)'", script)
    token = "ghs_theStepsOwnToken0123456789"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GH_"))}
    env.update({"GH_TOKEN": token, "GIT_TERMINAL_PROMPT": "0", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"})
    ask = "protocol=https\nhost=github.com\npath=owner/shop.git\n\n"
    got = subprocess.run(
        ["git", "-c", "credential.helper=", "-c", helper, "credential", "fill"],
        input=ask,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert got.returncode == 0, got.stderr
    assert "username=x-access-token" in got.stdout.splitlines() and f"password={token}" in got.stdout.splitlines()
    stored = subprocess.run(
        ["git", "-c", "credential.helper=", "-c", helper, "credential", "approve"],
        input=ask.replace("\n\n", f"\nusername=x\npassword={token}\n\n"),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=30,
    )
    assert stored.returncode == 0 and not [f for f in tmp_path.rglob("*") if f.is_file()]  # nothing stored


# --- issue 18: a pull request's head cannot choose where the keys go --------------------------

BAIT_KEY = "sk-proj-bait-0123456789abcdefghijklmnop"  # what a real OPENAI_API_KEY secret would be
PR_CODE = "def charge(db, amount):\n    db.execute('UPDATE accounts SET balance = balance - ' + amount)\n"
ALL_HIGH = json.dumps({"hunks": [{"id": f"H{n}", "risk": "high", "reason": "money"} for n in range(1, 10)]})


def _answer_review(request) -> str:
    # Every hunk is rated high, so each goes to the frontier tier: the one the hostile head redirects.
    return ALL_HIGH if request.step == "review-triage" else json.dumps({"findings": []})


@pytest.fixture
def attacker():
    server = FakeOpenAI(default=Reply(text=json.dumps({"findings": []})))
    yield server
    server.close()


def _pr_checkout(tmp_path: Path, benign, attacker) -> Path:
    """A checkout of a pull request: origin/main holds a benign .tieragent.yaml (the fake model server),
    and the PR head changes the code and points the frontier tier at the attacker with OPENAI_API_KEY."""
    repo = make_repo(tmp_path / "checkout", {"shop/pay.py": "def charge(db, amount):\n    pass\n"})
    write_config(repo, benign)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tieragent config")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "switch", "-qc", "pr-head")
    (repo / "shop/pay.py").write_text(PR_CODE)
    hostile = yaml.safe_load((repo / ".tieragent.yaml").read_text())
    hostile["tiers"]["frontier"].update(api_base=attacker.url, api_key_env="OPENAI_API_KEY")
    (repo / ".tieragent.yaml").write_text(yaml.safe_dump(hostile))
    git(repo, "commit", "-qam", "charge, and a faster frontier model")
    return repo


@needs_bash
@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
def test_a_hostile_head_config_gets_no_request_and_no_key(tmp_path, fake_server, attacker, event):
    """The action's script, run as GitHub runs it for a pull request whose head rewrites .tieragent.yaml:
    the review takes the base's config (its model server gets the calls, with its own key), the
    attacker's server gets nothing, and the report names the head setting it ignored."""
    exe = real_tieragent()
    if exe is None:
        pytest.skip("no tieragent executable next to this python")
    fake_server.responder = _answer_review
    repo = _pr_checkout(tmp_path, fake_server, attacker)
    runner_temp, out, summary = tmp_path / "runner-temp", tmp_path / "github_output", tmp_path / "summary.md"
    runner_temp.mkdir()
    event_file = tmp_path / "event.json"
    event_file.write_text(
        json.dumps({"pull_request": {"head": {"repo": {"full_name": "owner/shop"}}, "base": {"ref": "main"}}})
    )
    env = cli_env(tmp_path)
    env = {k: v for k, v in env.items() if not k.startswith(("GITHUB_", "TA_", "RUNNER_"))}
    env.update(inputs_env({}))
    env.update(
        {
            "TA_SKIP_INSTALL": "1",
            "TA_TIERAGENT": str(exe),
            "TA_PYTHON": sys.executable,
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": "pr-head",
            "GITHUB_REPOSITORY": "owner/shop",
            "GITHUB_EVENT_PATH": str(event_file),
            "OPENAI_API_KEY": BAIT_KEY,
        }
    )
    proc = subprocess.run([BASH, str(SCRIPT)], cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    log = proc.stdout + proc.stderr

    assert attacker.requests == [], f"the head's api_base was called: {[r.headers for r in attacker.requests]}"
    assert BAIT_KEY not in json.dumps([r.headers for r in fake_server.requests])  # no key went where it does not belong
    assert ("review", "frontier") in fake_server.calls(), log  # the frontier tier of the base's config reviewed
    assert all(r.headers.get("authorization") == f"Bearer {FAKE_KEY}" for r in fake_server.requests)
    assert proc.returncode == 0, log
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs["status"] == "passed" and outputs["exit-code"] == "0"
    report = json.loads((runner_temp / "tieragent.json").read_text())
    assert any("tiers.frontier.api_base" in w for w in report["warnings"]), report["warnings"]
    assert "tiers.frontier.api_base" in summary.read_text()  # the step summary shows it to whoever reads the run


# --- issue 18: the shipped workflows ---------------------------------------------------------


def github_if(expression: str, context: dict) -> bool:
    """A GitHub Actions `if:` expression evaluated the way GitHub does for the subset the examples use:
    context paths (a missing property is null), 'strings' (compared without regard to case), ==, !=,
    !, &&, || and parentheses."""
    tokens = re.findall(r"\s*('[^']*'|[A-Za-z_][\w.-]*|==|!=|&&|\|\||!|\(|\))", expression)
    assert "".join(tokens).replace(" ", "") == expression.replace(" ", ""), f"unsupported: {expression}"
    python = []
    for tok in (t.strip() for t in tokens):
        if tok.startswith("'"):
            python.append(repr(tok[1:-1].lower()))
        elif tok in ("==", "!=", "(", ")"):
            python.append(tok)
        elif tok in ("&&", "||", "!"):
            python.append({"&&": "and", "||": "or", "!": "not"}[tok])
        else:
            value = context
            for part in tok.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            python.append(repr(value.lower() if isinstance(value, str) else value))
    return bool(eval(" ".join(python), {"__builtins__": {}}))


def pr_context(head_repo: str | None) -> dict:
    head = {"repo": {"full_name": head_repo}} if head_repo else {"repo": None}  # a deleted fork has no repo
    return {
        "github": {
            "event_name": "pull_request",
            "repository": "Owner/Shop",
            "event": {"pull_request": {"head": head, "base": {"ref": "main"}}},
        }
    }


def test_review_workflow_skips_fork_pull_requests_with_a_notice():
    """A fork's pull request gets no secrets: the review job is skipped and a notice job says why;
    the repository's own pull requests are reviewed and get no notice."""
    wf = load(REVIEW_YML)
    review, notice = wf["jobs"]["review"], wf["jobs"]["fork-notice"]
    for head, reviewed in [("owner/shop", True), ("Owner/Shop", True), ("someone/shop", False), (None, False)]:
        context = pr_context(head)
        assert github_if(review["if"], context) is reviewed, head
        assert github_if(notice["if"], context) is not reviewed, head
    assert notice.get("permissions") == {}  # the notice needs nothing, so it gets nothing
    [step] = notice["steps"]
    assert "uses" not in step and "secrets." not in json.dumps(notice)
    script = step["run"]
    assert "${{" not in script and "::notice" in script and "fork" in script
    # The notice is a workflow command that really prints, with no expression left to expand.
    proc = subprocess.run(
        [BASH or "bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, **dict.fromkeys(step.get("env", {}), "someone/shop")},
    )
    assert proc.returncode == 0 and proc.stdout.startswith("::notice")


def test_review_workflow_documents_pull_request_target():
    text = REVIEW_YML.read_text()
    assert triggers(load(REVIEW_YML)) == {"pull_request": None}  # the example stays on pull_request
    comments = " ".join(
        " ".join(line.strip().lstrip("#").split()) for line in text.splitlines() if line.strip().startswith("#")
    )
    # What a reader switching to pull_request_target must be told, in the words the README uses.
    for advice in (
        "`pull_request_target` would review forks too",
        "never check out and run the PR's code with secrets",
        "persist-credentials: false",
        "set a max-cost",
        ".tieragent.yaml as it is on the PR's base branch",
    ):
        assert advice in comments, advice


def test_action_max_cost_is_left_to_the_configuration_by_default():
    spec = load(ACTION)["inputs"]["max-cost"]
    assert spec["default"] == ""
    assert "configuration decides" in spec["description"]


@needs_bash
def test_max_cost_default_passes_no_flag(work):
    r = run_action(work)
    assert r.code == 0, r.stdout + r.stderr
    assert "--max-cost" not in r.record["args"]  # tieragent's budget.max_cost_usd decides


FAKE_EXIT_2_WITH_SARIF = {
    "status": "error",
    "exit_code": 2,
    "error": "tiers.small.api_key_env: OPENAI_API_KEY is not set",
    "totals": None,
    "summary": {"files": 1, "hunks": 1, "reviewed": 0, "skipped": 0, "unreviewed": 1, "findings": 0},
    "findings": [],
    "unreviewed": [],
    "steps": [],
}


@needs_bash
def test_a_review_that_stopped_before_reviewing_publishes_no_sarif(work):
    """Exit 2 (no key, a config error): the SARIF tieragent wrote has no results; uploaded, it would tell
    code scanning the pull request has no alerts. The step withholds it; the JSON report says why."""
    runner_temp = work[3]
    r = run_action(work, exit_code=2, extra={"FAKE_DOC": json.dumps(FAKE_EXIT_2_WITH_SARIF)})
    assert r.code == 2
    assert r.record["args"][0] == "review"  # tieragent ran and wrote both files
    assert r.outputs["sarif-path"] == "" and not (runner_temp / "tieragent.sarif").exists()
    assert r.outputs["json-path"] == str(runner_temp / "tieragent.json")
    assert r.outputs["status"] == "error" and r.outputs["exit-code"] == "2"
    assert "OPENAI_API_KEY is not set" in r.summary


def _event(tmp: Path, head_repo: str) -> Path:
    path = tmp / "event.json"
    path.write_text(json.dumps({"pull_request": {"head": {"repo": {"full_name": head_repo}}, "base": {"ref": "main"}}}))
    return path


@needs_bash
def test_a_fork_pull_request_that_stops_for_want_of_a_key_says_why(work):
    tmp, repo = work[0], work[1]
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    github = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main", "GITHUB_REPOSITORY": "owner/shop"}
    r = run_action(
        work,
        exit_code=2,
        extra={
            **github,
            "GITHUB_EVENT_PATH": str(_event(tmp, "someone/shop")),
            "FAKE_DOC": json.dumps(FAKE_EXIT_2_WITH_SARIF),
        },
    )
    assert r.code == 2 and r.outputs["sarif-path"] == ""
    [notice] = [line for line in r.stdout.splitlines() if line.startswith("::error::")]
    assert "comes from a fork (someone/shop)" in notice and "no secrets" in notice
    assert "examples/github/review.yml" in notice
    # The repository's own pull request stopping the same way is not blamed on a fork.
    r = run_action(
        work,
        exit_code=2,
        extra={
            **github,
            "GITHUB_EVENT_PATH": str(_event(tmp, "owner/shop")),
            "FAKE_DOC": json.dumps(FAKE_EXIT_2_WITH_SARIF),
        },
    )
    assert r.code == 2 and not any(line.startswith("::error::") for line in r.stdout.splitlines())


SHADOW = "open({marker!r}, 'w').write('ran')\nraise SystemExit(99)\n"


@needs_bash
def test_the_step_never_imports_python_from_the_checkout(work):
    """The step's own python (the report renderer, the push event reader) runs in the checkout, which on
    a pull request is the PR's code: a json.py there must not run with the step's secrets."""
    tmp, repo = work[0], work[1]
    marker = tmp / "pwned"
    for name in ("json.py", "html.py", "re.py"):
        (repo / name).write_text(SHADOW.format(marker=str(marker)))
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    event = tmp / "push.json"
    event.write_text(json.dumps({"before": first}))
    r = run_action(work, extra={"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
    assert not marker.exists()
    assert r.code == 0, r.stdout + r.stderr
    args = r.record["args"]
    assert args[args.index("--base") + 1] == first
    assert r.outputs["status"] == "passed" and r.outputs["cost"] == "0.012300"
    assert "`passed` (exit 0)" in r.summary


PROBE_MAIN = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_RECORD"], "w") as fh:
    json.dump({"args": args, "sys_path": sys.path, "pythonpath": os.environ.get("PYTHONPATH")}, fh)
with open(args[args.index("--output") + 1], "w") as fh:
    json.dump({"status": "passed", "exit_code": 0, "totals": None, "findings": [], "warnings": []}, fh)
"""


def probe_wheel(root: Path) -> Path:
    """A wheel named tieragent whose `python -m tieragent` records how it was started: pip installs it
    offline, with nothing to build and no dependency to fetch."""
    import zipfile

    info = "tieragent-0.0.1.dist-info"
    files = {
        "tieragent/__init__.py": "",
        "tieragent/__main__.py": PROBE_MAIN,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: tieragent\nVersion: 0.0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    wheel = root / "tieragent-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return wheel


@needs_bash
def test_the_install_and_the_run_never_import_python_from_the_checkout(work):
    """The real install path (a venv, pip, then tieragent) in a checkout that holds venv/, pip/ and
    ensurepip/ packages, with PYTHONPATH=. exported for the project's tests: `python -m` would import
    them first and run them in the step that holds the keys. Nothing from the checkout runs, and the
    tests tieragent starts still get PYTHONPATH."""
    tmp, repo = work[0], work[1]
    marker = tmp / "pwned"
    for package in ("venv", "pip", "ensurepip", "tieragent"):
        (repo / package).mkdir()
        (repo / package / "__init__.py").write_text("")
        (repo / package / "__main__.py").write_text(SHADOW.format(marker=str(marker)))
    python_dir = str(Path(sys.executable).parent)  # the venv module and ensurepip are this python's
    r = run_action(
        work,
        {"version": str(probe_wheel(tmp))},
        drop=("TA_SKIP_INSTALL", "TA_TIERAGENT", "TA_PYTHON"),
        extra={"PATH": python_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": ".", "PIP_NO_INDEX": "1"},
    )
    assert not marker.exists()
    assert r.code == 0, r.stdout + r.stderr
    assert r.record["args"][0] == "review"
    assert r.record["pythonpath"] == "."
    assert not any(Path(p or ".").resolve() == repo.resolve() for p in r.record["sys_path"]), r.record["sys_path"]
    assert r.outputs["status"] == "passed"


# --- bench-matrix.yml: N shards with the keys, one merge with nothing -------------------------

BENCH_YML = ACTION.parent / "examples" / "github" / "bench-matrix.yml"
FAKE_TIERAGENT = """\
#!/bin/sh
# Records its arguments, one a line, and prints a report line; exits with $FAKE_EXIT.
printf '%s\\n' "$@" > "$FAKE_ARGS"
echo "the report"
exit "${FAKE_EXIT:-0}"
"""


def bench_step(name_start: str) -> dict:
    steps = [s for job in load(BENCH_YML)["jobs"].values() for s in job["steps"]]
    [step] = [s for s in steps if s.get("name", "").startswith(name_start)]
    return step


def test_bench_matrix_workflow_keeps_the_keys_in_read_only_shards():
    """Started by hand only (never by a pull request); the shards can write nothing and keep no token on
    disk; the merge job gets no permission, no checkout and no key; every shard 1..N runs, none cancels
    the others, and the merge runs after a failed shard too."""
    wf = load(BENCH_YML)
    assert set(triggers(wf)) == {"workflow_dispatch"}
    assert wf["permissions"] == {"contents": "read"}
    shard, merge = wf["jobs"]["shard"], wf["jobs"]["merge"]
    assert shard["permissions"] == {"contents": "read"} and merge["permissions"] == {}
    [checkout] = [s for s in shard["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in merge["steps"])
    assert "secrets." not in json.dumps(merge) and "github.token" not in json.dumps(wf)
    assert shard["strategy"]["fail-fast"] is False
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, int(shard["env"]["SHARDS"]) + 1))
    assert merge["needs"] == "shard" and merge["if"] == "${{ !cancelled() }}"
    assert all("${{" not in script for script in run_texts(wf))  # inputs reach scripts as variables only
    installs = [s for s in [*shard["steps"], *merge["steps"]] if s.get("name") == "Install tieragent"]
    assert len(installs) == 2 and all(s["working-directory"] == "${{ runner.temp }}" for s in installs)
    [upload] = [s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    [download] = [s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert (
        upload["with"]["name"] == "bench-shard-${{ matrix.shard }}" and download["with"]["pattern"] == "bench-shard-*"
    )
    assert upload["if"] == "${{ !cancelled() }}"  # a budget-stopped shard still hands over its results


@needs_bash
def test_bench_matrix_shard_step_passes_inputs_as_arguments(tmp_path):
    """The shard step's script as GitHub runs it: the matrix's K and N become `--shard K/N`, and an input
    holding shell syntax arrives as one argument, never run."""
    step = bench_step("Run shard")
    bin_dir, marker = tmp_path / "bin", tmp_path / "pwned"
    bin_dir.mkdir()
    (bin_dir / "tieragent").write_text(FAKE_TIERAGENT)
    (bin_dir / "tieragent").chmod(0o755)
    suite = f"tasks; touch {marker} $(touch {marker})"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_ARGS": str(tmp_path / "args"),
        "RUNNER_TEMP": str(tmp_path / "rt"),
        "SHARD": "3",
        "SHARDS": "4",
        "SUITE": suite,
        "POLICIES": "cascade,mid-only",
        "MAX_COST": "5.00",
    }
    proc = subprocess.run([BASH or "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env)
    assert proc.returncode == 0 and not marker.exists()
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:5] == ["bench", "--suite", suite, "--shard", "3/4"]
    assert args[args.index("--policies") + 1] == "cascade,mid-only" and args[-1] == "--no-ci"
    assert args[args.index("--results") + 1] == f"{tmp_path / 'rt'}/bench/results.jsonl"


@needs_bash
@pytest.mark.parametrize("code", [0, 2, 3])
def test_bench_matrix_merge_step_reports_in_the_summary_and_keeps_the_exit_code(tmp_path, code):
    step = bench_step("Merge the shards")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tieragent").write_text(FAKE_TIERAGENT)
    (bin_dir / "tieragent").chmod(0o755)
    for k in (1, 2):
        (tmp_path / "shards" / f"bench-shard-{k}").mkdir(parents=True)
        (tmp_path / "shards" / f"bench-shard-{k}" / "results.jsonl").write_text("{}\n")
    summary = tmp_path / "summary.md"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_ARGS": str(tmp_path / "args"),
        "FAKE_EXIT": str(code),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    script = [BASH or "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    proc = subprocess.run(script, env=env, cwd=tmp_path)
    assert proc.returncode == code
    assert summary.read_text() == "```text\nthe report\n```\n"
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:4] == ["bench", "merge", "shards/bench-shard-1/results.jsonl", "shards/bench-shard-2/results.jsonl"]
