"""The CI integrations: the composite GitHub Action (action.yml and scripts/action.sh), the example
workflows and the pre-commit hook.

The YAML files are checked for structure and for script injection (no `${{ inputs.` nor issue
text inside a `run:` script). The action's script really runs, in bash, against a fake `tieragent`
that records its arguments, environment and request file and writes the reports it is asked for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import git, make_repo

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "scripts" / "action.sh"
REVIEW_YML = ROOT / "examples" / "github" / "review.yml"
FIX_YML = ROOT / "examples" / "github" / "fix.yml"
GITLAB_YML = ROOT / "examples" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def load(path: Path):
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    return workflow.get("on", workflow.get(True))


def run_texts(node) -> list[str]:
    """Every `run:` script anywhere in a workflow or action."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(run_texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(run_texts(item))
    return found


def steps_of(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def action_step(workflow: dict) -> dict:
    [step] = [s for s in steps_of(workflow) if re.fullmatch(r"OWNER/tieragent@v1", s.get("uses", ""))]
    return step


# --- the YAML files -------------------------------------------------------------------------


def test_action_inputs_and_outputs():
    action = load(ACTION)
    inputs, outputs = action["inputs"], action["outputs"]
    assert set(inputs) == {
        "command",
        "request",
        "base",
        "format",
        "fail-on",
        "models",
        "max-cost",
        "python-version",
        "version",
    }
    assert {"status", "cost", "patch-path", "sarif-path", "exit-code"} <= set(outputs)
    for name, spec in {**inputs, **outputs}.items():
        assert spec.get("description", "").strip(), f"{name} has no description"
    assert inputs["command"]["default"] == "review"
    assert inputs["format"]["default"] == "github"
    assert inputs["fail-on"]["default"] == "high"
    assert inputs["python-version"]["default"] == "3.12"
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_action_is_composite_and_passes_inputs_only_through_env():
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"] == "actions/setup-python@v5"
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    [run_step] = [s for s in steps if "run" in s]
    assert run_step["id"] == "run" and run_step["shell"] == "bash"
    assert "scripts/action.sh" in run_step["run"]
    for text in run_texts(action):
        assert "${{" not in text, f"an expression inside a run script: {text!r}"
    # Every input except the one setup-python takes reaches the script as a TA_* variable.
    passed = {re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", v).group(1) for v in run_step["env"].values()}
    assert passed == set(action["inputs"]) - {"python-version"}
    assert all(k.startswith("TA_") for k in run_step["env"])


def test_review_workflow():
    wf = load(REVIEW_YML)
    assert "pull_request" in triggers(wf)
    assert wf["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "read"}
    steps = steps_of(wf)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False
    step = action_step(wf)
    assert step["with"] == {"command": "review"}  # the essential lines: uses, with, command
    assert step["id"] == "review"
    assert all(v.startswith("${{ secrets.") for v in step["env"].values())
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@v3"))
    assert "always()" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.review.outputs.sarif-path }}"
    # The three lines are marked for the reader.
    text = REVIEW_YML.read_text()
    marked = text.split("these three lines", 1)[1].splitlines()[1:4]
    assert [line.strip() for line in marked] == ["- uses: OWNER/tieragent@v1", "with:", "command: review"]


def test_fix_workflow_never_puts_issue_text_in_a_script():
    wf = load(FIX_YML)
    assert triggers(wf) == {"issues": {"types": ["labeled"]}}
    assert "github.event.label.name == 'tieragent'" in wf["jobs"]["fix"]["if"]
    step = action_step(wf)
    assert step["with"]["command"] == "fix"
    assert "${{ github.event.issue.body }}" in step["with"]["request"]
    assert all(v.startswith("${{ secrets.") for v in step["env"].values())
    scripts = run_texts(wf)
    assert scripts
    for text in scripts:
        assert "github.event.issue." not in text
        assert "${{" not in text, f"an expression inside a run script: {text!r}"
    joined = "\n".join(scripts)
    assert 'branch="tieragent/issue-$ISSUE_NUMBER"' in joined
    assert "gh pr create" in joined and "Fixes #" in joined and "gh issue comment" in joined


def test_fix_workflow_renders_the_cost_ledger(tmp_path):
    """The PR body snippet in fix.yml, run on a report like the one the action writes."""
    [script] = [t for t in run_texts(load(FIX_YML)) if "gh pr create" in t]
    snippet = script.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "status": "fixed",
                "steps": [
                    {
                        "step": "classify",
                        "tier": "small",
                        "model": "openai/gpt-5-nano",
                        "input_tokens": 812,
                        "output_tokens": 41,
                        "cost_usd": 0.000057,
                        "outcome": "ok",
                        "note": "local | low risk",
                    },
                    {
                        "step": "patch",
                        "tier": "mid",
                        "model": "m",
                        "input_tokens": 10,
                        "output_tokens": 5,
                        "cost_usd": None,
                        "outcome": "ok",
                        "note": "",
                    },
                ],
            }
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", snippet, str(report), "42", "0.012300"], capture_output=True, text=True, check=True
    ).stdout
    assert "| 1 | classify | small | openai/gpt-5-nano | 812/41 | $0.000057 | ok | local \\| low risk |" in out
    assert "| 2 | patch | mid | m | 10/5 | ? | ok |  |" in out
    assert "$0.012300" in out and out.rstrip().endswith("Fixes #42")


def test_gitlab_example():
    ci = load(GITLAB_YML)
    review = ci["tieragent-review"]
    assert review["variables"]["GIT_DEPTH"] == 0
    assert review["image"].startswith("python:")
    # tieragent is not on PyPI: both jobs install it from its repository, pinned
    assert (
        ci["variables"]["TIERAGENT_INSTALL"].startswith("git+https://") and "@" in ci["variables"]["TIERAGENT_INSTALL"]
    )
    for job in (review, ci["tieragent-fix"]):
        assert 'pip install --quiet "$TIERAGENT_INSTALL"' in job["before_script"]
    [cmd] = [line for line in review["script"] if line.startswith("tieragent review")]
    assert '--base "origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"' in cmd
    assert "--format markdown" in cmd and "--output review.json" in cmd and "--fail-on high" in cmd
    assert "review.json" in review["artifacts"]["paths"]
    assert review["artifacts"]["when"] == "always"
    fix = ci["tieragent-fix"]
    assert fix["rules"][0]["when"] == "manual"
    assert any("--request-file" in line for line in fix["script"])


def test_pre_commit_hook():
    [hook] = load(HOOKS)
    assert hook["id"] == "tieragent-review"
    assert hook["entry"] == "tieragent review --staged --fail-on high --format text"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["always_run"] is True and hook["require_serial"] is True
    # The stage names match the git hooks since pre-commit 3.2 (`commit` is deprecated).
    assert hook["stages"] == ["pre-commit"]
    assert hook["minimum_pre_commit_version"] == "3.2.0"


# --- the action's script, run -----------------------------------------------------------------

FAKE = """\
#!{python}
# A stand-in for tieragent: records how it was called, writes the reports it is asked for.
import json, os, sys
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1] if name in args else None
record = {{"args": args, "cwd": os.getcwd(),
          "env": {{k: v for k, v in os.environ.items() if k.startswith("TIERAGENT_")}},
          "stdin": sys.stdin.read()}}
if opt("--request-file"):
    with open(opt("--request-file"), "rb") as fh:
        record["request_hex"] = fh.read().hex()
with open(os.environ["FAKE_RECORD"], "w") as fh:
    json.dump(record, fh)
code = int(os.environ.get("FAKE_EXIT", "0"))
doc = json.loads(os.environ["FAKE_DOC"]) if os.environ.get("FAKE_DOC") else {{
    "status": {{0: "fixed" if args[0] == "fix" else "passed", 1: "failed", 3: "budget_exceeded"}}.get(code, "error"),
    "exit_code": code, "totals": {{"cost_usd": 0.0123, "cost_complete": True}},
    "summary": {{"files": 1, "hunks": 2, "skipped": 0, "reviewed": 2, "unreviewed": 0, "findings": 0}},
    "findings": [], "steps": [], "patch": None, "error": None}}
if opt("--output") and not os.environ.get("FAKE_NO_JSON"):
    with open(opt("--output"), "w") as fh:
        json.dump(doc, fh)
if opt("--sarif"):
    with open(opt("--sarif"), "w") as fh:
        json.dump({{"version": "2.1.0", "runs": []}}, fh)
if opt("--patch-out") and code == 0:
    with open(opt("--patch-out"), "w") as fh:
        fh.write("diff --git a/x b/x\\n")
print("fake tieragent ran", " ".join(args))
sys.exit(code)
"""


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, tmp: Path, record: Path):
        self.proc, self.tmp, self.record_path = proc, tmp, record
        self.code, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr

    @property
    def ran(self) -> bool:
        return self.record_path.exists()

    @property
    def record(self) -> dict:
        return json.loads(self.record_path.read_text())

    @property
    def outputs(self) -> dict[str, str]:
        lines = (self.tmp / "github_output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)

    @property
    def summary(self) -> str:
        return (self.tmp / "step_summary.md").read_text()


@pytest.fixture
def work(tmp_path):
    """A checkout to run in (two commits), a runner temp dir and a fake tieragent."""
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    (repo / "a.py").write_text("x = 2\n")
    git(repo, "commit", "-qam", "second")
    fake = tmp_path / "fake-tieragent"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    return tmp_path, repo, fake, runner_temp


def inputs_env(inputs: dict[str, str]) -> dict[str, str]:
    """The TA_* variables action.yml would set for these inputs (its defaults for the others)."""
    action = load(ACTION)
    [run_step] = [s for s in action["runs"]["steps"] if "run" in s]
    env = {}
    for var, expr in run_step["env"].items():
        name = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", expr).group(1)
        env[var] = inputs.get(name, str(action["inputs"][name].get("default", "")))
    return env


def run_action(
    work,
    inputs: dict[str, str] | None = None,
    *,
    exit_code: int = 0,
    extra: dict | None = None,
    drop: tuple[str, ...] = (),
) -> Run:
    tmp, repo, fake, runner_temp = work
    record = tmp / "record.json"
    record.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TIERAGENT_", "TA_", "RUNNER_"))}
    env.update(inputs_env(inputs or {}))
    env.update(
        {
            "TA_SKIP_INSTALL": "1",
            "TA_TIERAGENT": str(fake),
            "TA_PYTHON": sys.executable,
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(tmp / "github_output"),
            "GITHUB_STEP_SUMMARY": str(tmp / "step_summary.md"),
            "FAKE_RECORD": str(record),
            "FAKE_EXIT": str(exit_code),
        }
    )
    env.update(extra or {})
    for name in drop:
        env.pop(name, None)
    for name in ("github_output", "step_summary.md"):
        (tmp / name).unlink(missing_ok=True)
    proc = subprocess.run([BASH, str(SCRIPT)], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    return Run(proc, tmp, record)


@needs_bash
@pytest.mark.parametrize("code,status", [(0, "passed"), (1, "failed"), (3, "budget_exceeded")])
def test_review_exit_code_and_outputs(work, code, status):
    r = run_action(work, exit_code=code)
    assert r.code == code, r.stdout + r.stderr
    runner_temp = work[3]
    assert r.outputs == {
        "status": status,
        "cost": "0.012300",
        "exit-code": str(code),
        "patch-path": "",
        "sarif-path": str(runner_temp / "tieragent.sarif"),
        "json-path": str(runner_temp / "tieragent.json"),
    }
    args = r.record["args"]
    assert args[0] == "review" and "--ci" in args
    assert args[args.index("--output") + 1] == str(runner_temp / "tieragent.json")
    assert args[args.index("--sarif") + 1] == str(runner_temp / "tieragent.sarif")
    assert args[args.index("--format") + 1] == "github"
    assert args[args.index("--fail-on") + 1] == "high"
    assert "--max-cost" not in args  # the configuration's budget decides
    assert "fake tieragent ran" in r.stdout  # tieragent's stdout (the annotations) reaches the log
    assert f"`{status}` (exit {code})" in r.summary and "$0.012300" in r.summary


@needs_bash
def test_review_inputs_reach_tieragent(work):
    r = run_action(work, {"format": "sarif", "fail-on": "medium", "max-cost": "0.25", "base": "HEAD~1"})
    assert r.code == 0, r.stdout + r.stderr
    args = r.record["args"]
    assert args[args.index("--format") + 1] == "sarif"
    assert args[args.index("--fail-on") + 1] == "medium"
    assert args[args.index("--max-cost") + 1] == "0.25"
    assert args[args.index("--base") + 1] == "HEAD~1"
    assert r.record["stdin"] == ""  # stdin is closed: nothing waits for input


@needs_bash
def test_review_summary_is_rendered_from_the_json(work):
    doc = {
        "status": "failed",
        "exit_code": 1,
        "totals": {"cost_usd": 0.5, "cost_complete": True},
        "summary": {"files": 2, "hunks": 3, "skipped": 1, "reviewed": 2, "unreviewed": 0, "findings": 2},
        "findings": [
            {"path": "b.py", "line": 3, "severity": "low", "category": "style", "message": "nit", "suggestion": ""},
            {
                "path": "a.py",
                "line": 7,
                "severity": "high",
                "category": "security",
                "message": "x | y <script>",
                "suggestion": "use z",
            },
        ],
        "unreviewed": [],
        "steps": [],
        "error": None,
    }
    r = run_action(work, exit_code=1, extra={"FAKE_DOC": json.dumps(doc)})
    assert r.code == 1
    summary = r.summary
    assert "2 files, 3 hunks: 2 reviewed, 1 skipped without a model, 0 not reviewed, 2 findings." in summary
    high = summary.index("| high | `a.py:7` | security | x \\| y &lt;script&gt;<br>Suggestion: use z |")
    assert high < summary.index("| low | `b.py:3` | style | nit |")  # riskiest first


@needs_bash
def test_summary_lists_the_report_warnings(work):
    """Warnings (a pull request's ignored change to .tieragent.yaml, say) reach the run's page, once each."""
    ignored = "ignored the pull request's .tieragent.yaml: tiers.frontier.api_base | <not from the base>"
    doc = {
        "status": "passed",
        "exit_code": 0,
        "totals": {"cost_usd": 0.01, "cost_complete": True},
        "summary": {"files": 1, "hunks": 1, "skipped": 0, "reviewed": 1, "unreviewed": 0, "findings": 0},
        "findings": [],
        "unreviewed": [],
        "steps": [],
        "error": None,
        "warnings": [ignored, ignored, 7],
    }
    r = run_action(work, extra={"FAKE_DOC": json.dumps(doc)})
    assert r.code == 0, r.stdout + r.stderr
    lines = r.summary.splitlines()
    shown = "- ignored the pull request's .tieragent.yaml: tiers.frontier.api_base \\| &lt;not from the base&gt;"
    assert "**Warnings:**" in lines and lines.count(shown) == 1


@needs_bash
def test_fix_request_arrives_byte_for_byte_and_is_never_run(work):
    tmp, _repo, _, runner_temp = work
    request = (
        "median() is wrong: \"$(touch pwned)\" and `touch pwned` and ${HOME} and '$(touch pwned)'\n"
        "a backslash \\n, a percent %s, a dollar $1, a semicolon; touch pwned\n"
        "\n  indented line, trailing spaces   \n\n"
    )
    r = run_action(work, {"command": "fix", "request": request})
    assert r.code == 0, r.stdout + r.stderr
    args = r.record["args"]
    assert args[0] == "fix" and "--ci" in args
    request_file = args[args.index("--request-file") + 1]
    assert bytes.fromhex(r.record["request_hex"]) == request.encode()
    assert Path(request_file).read_bytes() == request.encode()
    assert request not in args and not any("pwned" in a for a in args)
    assert args[args.index("--patch-out") + 1] == str(runner_temp / "tieragent.patch")
    assert args[args.index("--output") + 1] == str(runner_temp / "tieragent.json")
    assert "--sarif" not in args and "--format" not in args and "--base" not in args
    assert not list(tmp.rglob("pwned")) and not (Path.home() / "pwned").exists()
    assert r.outputs["status"] == "fixed"
    assert r.outputs["patch-path"] == str(runner_temp / "tieragent.patch")
    assert r.outputs["sarif-path"] == ""


@needs_bash
def test_fix_summary_shows_the_ledger_and_the_patch(work):
    doc = {
        "status": "fixed",
        "exit_code": 0,
        "totals": {"cost_usd": 0.02, "cost_complete": True},
        "patch": "diff --git a/a.py b/a.py\n-x = 2\n+x = 3\n",
        "error": None,
        "steps": [
            {
                "step": "classify",
                "tier": "small",
                "model": "openai/gpt-5-nano",
                "input_tokens": 812,
                "output_tokens": 41,
                "cost_usd": 0.000057,
                "outcome": "ok",
                "note": "local, low risk",
            }
        ],
    }
    r = run_action(work, {"command": "fix", "request": "fix it"}, extra={"FAKE_DOC": json.dumps(doc)})
    assert r.code == 0
    assert "| 1 | classify | small | openai/gpt-5-nano | 812/41 | $0.000057 | ok | local, low risk |" in r.summary
    assert "```diff\ndiff --git a/a.py b/a.py\n-x = 2\n+x = 3\n```" in r.summary


@needs_bash
@pytest.mark.parametrize("code,status", [(1, "failed"), (3, "budget_exceeded"), (4, "error")])
def test_fix_not_fixed(work, code, status):
    r = run_action(work, {"command": "fix", "request": "fix it"}, exit_code=code)
    assert r.code == code
    assert r.outputs["status"] == status and r.outputs["exit-code"] == str(code)
    assert r.outputs["patch-path"] == ""  # no patch was written


@needs_bash
def test_models_become_tier_variables(work):
    models = (
        "small=openai/gpt-5-nano\r\n\n  # a comment\n mid = anthropic/claude-sonnet-4-5 \n"
        "frontier=ollama/qwen2.5-coder:7b"
    )
    r = run_action(work, {"models": models}, extra={"TIERAGENT_TIERS__MID__MODEL": "openai/overridden"})
    assert r.code == 0, r.stdout + r.stderr
    assert r.record["env"] == {
        "TIERAGENT_TIERS__SMALL__MODEL": "openai/gpt-5-nano",
        "TIERAGENT_TIERS__MID__MODEL": "anthropic/claude-sonnet-4-5",
        "TIERAGENT_TIERS__FRONTIER__MODEL": "ollama/qwen2.5-coder:7b",
    }


@needs_bash
@pytest.mark.parametrize(
    "models,why",
    [
        ("small=openai/gpt-5-nano\nlarge=openai/gpt-5", "models line 2: 'large' is not a tier"),
        ("small: openai/gpt-5-nano", "models line 1 is not tier=provider/model"),
        ("mid=gpt-5", "models line 1: the mid model is not a provider/model id"),
        ("mid=openai/gpt-5 $(touch pwned)", "models line 1: the mid model"),
        ("OPENAI_API_KEY=sk-secret-value", "models line 1: 'OPENAI_API_KEY' is not a tier"),
        ("small=openai/a\n\nsmall=openai/b", "models line 3 sets the small tier a second time"),
    ],
)
def test_a_bad_models_line_stops_before_tieragent(work, models, why):
    r = run_action(work, {"models": models})
    assert r.code == 2
    assert not r.ran
    [error] = [line for line in r.stdout.splitlines() if line.startswith("::error::")]
    assert why in error
    assert "sk-secret-value" not in r.stdout + r.stderr + r.summary  # a pasted key is never echoed
    assert r.outputs["status"] == "error" and r.outputs["exit-code"] == "2"
    assert not list(work[0].rglob("pwned"))


@needs_bash
@pytest.mark.parametrize(
    "inputs,why",
    [
        ({"command": "deploy"}, "command must be review or fix"),
        ({"format": "html"}, "format must be"),
        ({"fail-on": "critical"}, "fail-on must be"),
        ({"max-cost": "1$"}, "max-cost must be a number"),
        ({"command": "fix", "request": "  \n\t"}, "needs a request"),
        ({"version": "--index-url=http://example.invalid"}, "version must be"),
    ],
)
def test_invalid_inputs_exit_2(work, inputs, why):
    r = run_action(work, inputs)
    assert r.code == 2 and not r.ran
    assert any(line.startswith("::error::") and why in line for line in r.stdout.splitlines()), r.stdout
    assert "## tieragent" in r.summary and why.split()[0] in r.summary


@needs_bash
def test_default_base_on_a_pull_request_is_the_base_branch(work):
    repo = work[1]
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD~1")
    r = run_action(work, extra={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"})
    assert r.code == 0, r.stdout + r.stderr
    args = r.record["args"]
    assert args[args.index("--base") + 1] == "origin/main"


@needs_bash
def test_a_base_missing_from_a_shallow_checkout_is_an_error(work):
    r = run_action(work, extra={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "develop"})
    assert r.code == 2 and not r.ran
    assert "fetch-depth: 0" in r.stdout and "origin/develop" in r.stdout


@needs_bash
def test_default_base_on_a_push_is_the_commit_before_it(work):
    tmp, repo, _, _ = work
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    (repo / "a.py").write_text("x = 3\n")
    git(repo, "commit", "-qam", "third")
    event = tmp / "event.json"
    event.write_text(json.dumps({"before": first}))
    r = run_action(work, extra={"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
    args = r.record["args"]
    assert args[args.index("--base") + 1] == first
    # A new branch (before is all zeros) falls back to HEAD~1.
    event.write_text(json.dumps({"before": "0" * 40}))
    r = run_action(work, extra={"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
    args = r.record["args"]
    assert args[args.index("--base") + 1] == "HEAD~1"


@needs_bash
def test_no_parent_reviews_an_empty_diff(tmp_path, work):
    _, _, fake, runner_temp = work
    single = make_repo(tmp_path / "single", {"a.py": "x = 1\n"})
    r = run_action((tmp_path, single, fake, runner_temp))
    assert r.code == 0
    args = r.record["args"]
    assert "--base" not in args
    diff = Path(args[args.index("--diff") + 1])
    assert diff.read_text() == ""
    assert any(line.startswith("::warning::") and "no base" in line for line in r.stdout.splitlines())


@needs_bash
def test_no_json_report_derives_the_status_from_the_exit_code(work):
    r = run_action(work, exit_code=1, extra={"FAKE_NO_JSON": "1"})
    assert r.code == 1
    assert r.outputs["status"] == "failed" and r.outputs["cost"] == "" and r.outputs["json-path"] == ""
    assert "::warning::tieragent wrote no JSON report" in r.stdout


@needs_bash
@pytest.mark.parametrize("command,status", [("review", "incomplete"), ("fix", "budget_exceeded")])
def test_exit_3_without_a_report_is_an_incomplete_review_or_a_spent_budget(work, command, status):
    inputs = {"command": command, "request": "fix it"} if command == "fix" else {}
    r = run_action(work, inputs, exit_code=3, extra={"FAKE_NO_JSON": "1"})
    assert r.code == 3 and r.outputs["status"] == status


@needs_bash
def test_runs_without_github_variables(work):
    """No GITHUB_OUTPUT, GITHUB_STEP_SUMMARY or RUNNER_TEMP: outputs go to stderr, files to a temp dir."""
    r = run_action(work, drop=("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "RUNNER_TEMP"))
    assert r.code == 0, r.stderr
    assert "status=passed" in r.stderr and "exit-code=0" in r.stderr
    assert not (work[0] / "github_output").exists() and not (work[0] / "step_summary.md").exists()
    output = r.record["args"][r.record["args"].index("--output") + 1]
    assert Path(output).name == "tieragent.json" and not Path(output).is_relative_to(work[3])


@needs_bash
def test_the_script_is_not_a_checkout_of_the_repository(work):
    tmp = work[0]
    plain = tmp / "plain"
    plain.mkdir()
    r = run_action((tmp, plain, work[2], work[3]))
    assert r.code == 2 and not r.ran
    assert "actions/checkout" in r.stdout


def real_tieragent() -> Path | None:
    exe = Path(sys.executable).with_name("tieragent")
    if not exe.exists():
        return None
    return exe


@needs_bash
def test_real_tieragent_with_nothing_to_review(tmp_path):
    """The action's script with the real tieragent (no install): a checkout with one commit has no base,
    so the review gets an empty diff, says nothing to review and exits 0."""
    exe = real_tieragent()
    if exe is None:
        pytest.skip("no tieragent executable next to this python")
    help_text = subprocess.run(
        [str(exe), "review", "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60
    ).stdout
    missing = [opt for opt in ("--output", "--sarif", "--ci") if opt not in help_text]
    if missing:
        pytest.skip(f"this tieragent's review has no {', '.join(missing)} yet (the CI mode is not merged)")
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    out, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TIERAGENT_", "TA_", "RUNNER_"))}
    env.update(inputs_env({"format": "text"}))  # the text format says "nothing to review"; github prints no annotation
    env.update(
        {
            "TA_SKIP_INSTALL": "1",
            "TA_TIERAGENT": str(exe),
            "TA_PYTHON": sys.executable,
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary),
            "CI": "true",
        }
    )
    proc = subprocess.run([BASH, str(SCRIPT)], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs["status"] == "passed" and outputs["exit-code"] == "0"
    report = json.loads((runner_temp / "tieragent.json").read_text())
    assert report["status"] == "passed" and report["findings"] == []
    assert "nothing to review" in proc.stdout
    sarif = json.loads(Path(outputs["sarif-path"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert outputs["json-path"] == str(runner_temp / "tieragent.json")
    assert "`passed` (exit 0)" in summary.read_text()
