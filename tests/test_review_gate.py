"""The review gate cannot be walked around: what "whitespace only" means, exemptions that count only
as they stand on the base, hunks left unreviewed never passing, and every output format masked.

Real git repositories and diffs; a scripted model at the gateway (tests/flowkit.py)."""

from __future__ import annotations

import io
import json

import pytest
from conftest import FAKE_KEY, git, make_repo, write_config
from flowkit import review, scripted
from rich.console import Console

from tieragent.cli.review_formats import print_review, to_github, to_markdown
from tieragent.cli.review_sarif import to_sarif
from tieragent.core.errors import ExitCode
from tieragent.flows.review.diff import parse_diff
from tieragent.flows.review.prefilter import Sides, prefilter
from tieragent.repo import changes
from tieragent.repo.workspace import GitWorkspace

NO_FINDINGS = '{"findings": []}'
TRIAGE_MEDIUM = (
    '{"hunks": [{"id": "H1", "risk": "medium", "reason": "code"}, {"id": "H2", "risk": "medium", "reason": "code"}]}'
)


def _prefiltered(tmp_path, path: str, old: str, new: str):
    """The pre-filter's answer for one file changed from `old` to `new` in the working tree of a real repository."""
    repo = make_repo(tmp_path / "r", {path: old})
    (repo / path).write_text(new)
    ws = GitWorkspace.open(repo)
    source = changes.working_tree(ws)
    sides = Sides(
        lambda p: changes.old_content(ws, source, p),
        lambda p: changes.new_content(ws, source, p),
        changes.base_attributes(ws, source, [path]),
        changes.change_attributes(ws, source, [path]),
    )
    return prefilter(parse_diff(source.text), sides)


def _whitespace_only(tmp_path, path, old, new) -> bool:
    filtered = _prefiltered(tmp_path, path, old, new)
    return [s.reason for s in filtered.skipped] == ["whitespace only"] and not filtered.hunks


CLEANUP = "set -e\nrm -rf /tmp/cache\necho done\n"
GUARD = "def check(user):\n    ok = False\n    if user.is_admin:\n        log(user)\n        ok = True\n    return ok\n"


@pytest.mark.parametrize(
    "path, old, new",
    [
        # a space inside a line can split a shell word, wherever the shell command sits
        ("clean.sh", CLEANUP, CLEANUP.replace("/tmp/cache", "/ tmp/cache")),
        (
            ".github/workflows/ci.yml",
            "jobs:\n  a:\n    steps:\n      - run: |\n          rm -rf /tmp/cache\n",
            "jobs:\n  a:\n    steps:\n      - run: |\n          rm -rf / tmp/cache\n",
        ),
        ("Makefile", "clean:\n\trm -rf /tmp/cache\n", "clean:\n\trm -rf / tmp/cache\n"),
        (
            "tasks.py",
            'import os\n\n\ndef clean():\n    os.system("rm -rf /tmp/cache")\n',
            'import os\n\n\ndef clean():\n    os.system("rm -rf / tmp/cache")\n',
        ),
        (
            "tasks.py",
            'SCRIPT = """\nset -e\nrm -rf /tmp/cache\n"""\n',
            'SCRIPT = """\nset -e\nrm -rf / tmp/cache\n"""\n',
        ),
        ("deploy.js", "const cmd = `\nrm -rf /tmp/cache\n`;\n", "const cmd = `\nrm -rf / tmp/cache\n`;\n"),
        # a Python re-indentation that makes `ok = True` unconditional
        ("auth.py", GUARD, GUARD.replace("        ok = True", "    ok = True")),
        # indentation is syntax in YAML and Makefiles
        ("config.yml", "a:\n  b: 1\n  c: 2\n", "a:\n  b: 1\nc: 2\n"),
        ("Makefile", "build:\n\tcc -o app app.c\n", "build:\n        cc -o app app.c\n"),
        # a space removed between two operators changes the tokens: `a + ++b` is not `a+++b`
        ("calc.c", "int f(int a, int b) {\n    return a + ++b;\n}\n", "int f(int a, int b) {\n    return a+++b;\n}\n"),
    ],
)
def test_a_change_whitespace_alone_seems_to_make_is_reviewed(tmp_path, path, old, new):
    assert not _whitespace_only(tmp_path, path, old, new)


@pytest.mark.parametrize(
    "path, old, new",
    [
        (
            "app.js",
            "function f(x) {\n  if (x) {\n    return 1;\n  }\n}\n",
            "function f(x) {\n    if (x) {\n        return 1;\n    }\n}\n",
        ),
        ("app.js", "const a = 1;\nconst b = 2;\n", "const a = 1;   \n\n\nconst b = 2;\n"),
        (
            "util.py",
            'def greet(name):\n    return "hello " + name\n',
            'def greet(name):\n    return "hello "  +  name\n',
        ),
        ("util.py", "def f(a, b):\n    return g(a,\n             b)\n", "def f(a, b):\n    return g(a, b)\n"),
        ("util.py", "def f():\n    x = 1\n    return x\n", "def f():\n    x = 1\n\n    return x   \n"),
        ("config.yml", "a:\n  b: 1\n", "a:\n  b: 1   \n\n"),
    ],
)
def test_whitespace_that_cannot_change_the_program_is_still_skipped(tmp_path, path, old, new):
    assert _whitespace_only(tmp_path, path, old, new)


def test_a_handed_in_diff_of_python_is_judged_by_its_tokens_against_head(tmp_path):
    script = 'SCRIPT = """\nrm -rf /tmp/cache\n"""\n\n\ndef greet(name):\n    return "hi " + name\n'
    repo = make_repo(tmp_path / "r", {"tasks.py": script})
    (repo / "tasks.py").write_text(script.replace('"hi " + name', '"hi "  +  name'))
    spacing = git(repo, "diff")
    (repo / "tasks.py").write_text(script.replace("/tmp/cache", "/ tmp/cache"))
    in_string = git(repo, "diff")
    ws = GitWorkspace.open(repo)
    for diff, skipped in ((spacing, True), (in_string, False)):
        source = changes.from_text(diff, "-")
        sides = Sides(
            lambda p, source=source: changes.old_content(ws, source, p),
            lambda p, source=source: changes.new_content(ws, source, p),
            {},
            {},
        )
        filtered = prefilter(parse_diff(diff), sides)
        assert (not filtered.hunks and [s.reason for s in filtered.skipped] == ["whitespace only"]) is skipped


def test_code_moved_out_of_its_block_is_reviewed_where_indentation_is_syntax(tmp_path):
    body = "        audit(user)\n        deny(user)\n        return False\n"
    old = (
        "def check(user):\n    if not user.ok:\n"
        + body
        + "    return True\n"
        + "\n" * 12
        + "def spare(user):\n    pass\n"
    )
    new = (
        "def check(user):\n    if not user.ok:\n    return True\n"
        + "\n" * 12
        + "def spare(user):\n    pass\n"
        + body[4:].replace("\n    ", "\n")
    )
    python = _prefiltered(tmp_path / "py", "auth.py", old, new)
    assert len(python.hunks) == 2 and python.skipped == []  # the checks now run unconditionally, elsewhere: reviewed
    other = _prefiltered(tmp_path / "txt", "auth.coffee.txt", old, new)
    assert [s.reason.split(" (")[0] for s in other.skipped] == ["moved", "moved"] and other.hunks == []


# ------------------------------------------------------------------------------------ exemptions stand on the base

LIB = "def handler(event):\n    return {'ok': True}\n"
PAYLOAD = "def handler(event):\n    import os\n    os.system(event['cmd'])\n    return {'ok': True}\n"


@pytest.fixture
def service(tmp_path):
    repo = make_repo(tmp_path / "svc", {"app/handler.py": LIB, "vendor/lib/helper.py": "X = 1\n", "README.md": "svc\n"})
    main = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "pr")
    return repo, main


def _review_pr(repo, main, provider):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pr")
    return review(repo, provider, changes.since_base(GitWorkspace.open(repo), main))


def _reviewer():
    return scripted(
        {
            ("review-triage", "small"): [TRIAGE_MEDIUM],
            ("review", "mid"): [NO_FINDINGS],
            ("review", "frontier"): [NO_FINDINGS],
        }
    )


def test_a_pr_that_marks_its_own_code_generated_in_gitattributes_has_it_reviewed(service):
    repo, main = service
    (repo / ".gitattributes").write_text("app/*.py linguist-generated\n")
    (repo / "app/handler.py").write_text(PAYLOAD)
    provider = _reviewer()
    result = _review_pr(repo, main, provider)
    assert "app/handler.py" not in {s.path for s in result.skipped}
    assert {a.hunk.path for a in result.assessed} == {".gitattributes", "app/handler.py"}
    handler = next(a for a in result.assessed if a.hunk.path == "app/handler.py")
    note = "reviewed although linguist-generated only in the .gitattributes this change writes, not on the base"
    assert note in handler.reasons and f"app/handler.py: {note}" in result.warnings
    assert any("os.system" in r.prompt_text() for r in provider.requests if r.step == "review")


def test_a_pr_that_adds_a_generated_marker_has_the_file_reviewed(service):
    repo, main = service
    (repo / "app/handler.py").write_text("# @generated by protoc. DO NOT EDIT.\n" + PAYLOAD)
    result = _review_pr(repo, main, _reviewer())
    assert result.skipped == [] and [a.hunk.path for a in result.assessed] == ["app/handler.py"]
    assert "reviewed although looks generated only as this change leaves it" in result.assessed[0].reasons


def test_a_new_file_under_a_vendored_path_is_reviewed_but_an_updated_vendored_file_is_not(service):
    repo, main = service
    (repo / "vendor/lib/evil.py").write_text(PAYLOAD)
    (repo / "vendor/lib/helper.py").write_text("X = 2\n")
    result = _review_pr(repo, main, _reviewer())
    assert [(s.path, s.reason) for s in result.skipped] == [("vendor/lib/helper.py", "vendored")]
    (evil,) = result.assessed
    assert (
        evil.hunk.path == "vendor/lib/evil.py"
        and "reviewed although vendored by its path, but new in this change" in evil.reasons
    )


def test_a_source_file_made_binary_is_not_skipped_but_left_unreviewed(service):
    repo, main = service
    (repo / "app/loader.js").write_text("module.exports = 1;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "loader")
    (repo / "app/loader.js").write_bytes(b"// \0\nrequire('child_process').execSync(process.env.CMD);\n")
    (repo / "app/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    result = _review_pr(repo, main, scripted({}))
    assert [(s.path, s.reason) for s in result.skipped] == [("app/logo.png", "binary")]
    assert [(u.path, u.cause) for u in result.unreviewed] == [("app/loader.js", "binary")]
    assert result.status == "incomplete" and result.exit_code == 3


def test_the_bases_gitattributes_still_exempt_new_files(service):
    repo, main = service
    git(repo, "checkout", "-q", main)
    (repo / ".gitattributes").write_text("dist/** linguist-generated\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "dist is built")
    git(repo, "checkout", "-q", "-b", "pr2")
    (repo / "dist").mkdir()
    (repo / "dist/bundle.js").write_text("console.log(1)\n")
    result = _review_pr(repo, main, scripted({}))
    assert [(s.path, s.reason) for s in result.skipped] == [("dist/bundle.js", "generated (.gitattributes)")]
    assert result.ledger is None and result.status == "passed"


# ------------------------------------------------------------------------------------ unreviewed never passes


def _one_hunk(repo):
    (repo / "app/handler.py").write_text(PAYLOAD)


def test_unusable_replies_leave_the_review_incomplete_not_passed(service):
    repo, _ = service
    _one_hunk(repo)
    result = review(
        repo, scripted({("review-triage", "small"): [TRIAGE_MEDIUM], ("review", "mid"): ["Looks good to me!"]})
    )
    assert result.status == "incomplete" and result.exit_code == ExitCode.BUDGET
    assert [(u.cause, u.reason) for u in result.unreviewed] == [
        ("unusable-replies", "the mid tier's replies were unusable")
    ]
    assert result.to_json()["unreviewed"][0]["cause"] == "unusable-replies"
    assert "--allow-incomplete" in result.error


def test_allow_incomplete_passes_and_still_lists_the_hunks(service):
    from flowkit import config

    from tieragent.core.vocab import TIERS
    from tieragent.flows.review import ReviewDeps, ReviewOptions, run_review
    from tieragent.model.protocol import Models

    repo, _ = service
    _one_hunk(repo)
    provider = scripted({("review-triage", "small"): [TRIAGE_MEDIUM], ("review", "mid"): ["Looks good to me!"]})
    ws, cfg = GitWorkspace.open(repo), config()
    deps = ReviewDeps(
        ws=ws,
        config=cfg,
        models=lambda: Models(provider, {t: cfg.tier(t).price for t in TIERS}, {}),
        repo_map=lambda: None,
        runner=None,
    )  # type: ignore[arg-type]
    result = run_review(changes.working_tree(ws), deps, ReviewOptions(allow_incomplete=True))
    assert result.status == "passed" and result.exit_code == 0 and len(result.unreviewed) == 1


def test_a_hunk_too_large_for_every_tier_leaves_the_review_incomplete(service):
    repo, _ = service
    (repo / "app/big.py").write_text("".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(400)))
    result = review(repo, scripted({("review-triage", "small"): [TRIAGE_MEDIUM]}), windows={"mid": 4096 + 3000 + 5})
    assert result.status == "incomplete" and result.exit_code == 3
    assert [u.cause for u in result.unreviewed] == ["too-large"]


def _configured(repo, server):
    write_config(repo, server)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "config")


def test_the_cli_takes_allow_incomplete(cli, service, fake_server):
    repo, _ = service
    _configured(repo, fake_server)
    _one_hunk(repo)
    for _ in range(2):
        fake_server.enqueue("review-triage", "small", TRIAGE_MEDIUM)
        fake_server.enqueue("review", "mid", "Looks good to me!", "Still fine!")
    strict = cli(["review", "--json"], repo)
    assert strict.returncode == 3 and json.loads(strict.stdout)["status"] == "incomplete"
    allowed = cli(["review", "--json", "--allow-incomplete"], repo)
    doc = json.loads(allowed.stdout)
    assert allowed.returncode == 0 and doc["status"] == "passed" and doc["summary"]["unreviewed"] == 1


# ------------------------------------------------------------------------------------ every output masked

ENV_SECRET = "hunter2-correct-horse-battery"
OPENAI_SHAPED = "sk-proj-" + "Ab3" * 12


def _echoing_finding(path: str, line: int) -> str:
    message = f"the code leaks DEPLOY_TOKEN={ENV_SECRET} and {OPENAI_SHAPED}"
    return json.dumps(
        {
            "findings": [
                {
                    "path": path,
                    "line": line,
                    "severity": "high",
                    "category": "security",
                    "message": message,
                    "suggestion": f"rotate {OPENAI_SHAPED}",
                }
            ]
        }
    )


def _texts_of_every_format(result) -> dict[str, str]:
    buffer = io.StringIO()
    print_review(result, Console(file=buffer, width=200, color_system=None))
    return {
        "text": buffer.getvalue(),
        "markdown": to_markdown(result),
        "github": to_github(result),
        "sarif": json.dumps(to_sarif(result, "0")),
        "json": json.dumps(result.to_json()),
    }


def test_a_secret_a_model_echoes_is_masked_in_every_format(service, monkeypatch):
    repo, _ = service
    monkeypatch.setenv("DEPLOY_TOKEN", ENV_SECRET)
    _one_hunk(repo)
    provider = scripted(
        {("review-triage", "small"): [TRIAGE_MEDIUM], ("review", "mid"): [_echoing_finding("app/handler.py", 3)]}
    )
    result = review(repo, provider)
    assert result.findings, "the finding must be there for its masking to mean anything"
    for fmt, text in _texts_of_every_format(result).items():
        assert ENV_SECRET not in text and OPENAI_SHAPED not in text, fmt
        assert "TIERAGENT_SECRET_" in text, fmt


def test_the_sarif_file_the_output_file_and_stdout_are_masked(cli, service, fake_server, tmp_path):
    repo, _ = service
    _configured(repo, fake_server)
    _one_hunk(repo)
    env = {**__import__("conftest").cli_env(tmp_path), "DEPLOY_TOKEN": ENV_SECRET}
    for fmt in ("text", "markdown", "github", "sarif"):
        fake_server.enqueue("review-triage", "small", TRIAGE_MEDIUM)
        fake_server.enqueue("review", "mid", _echoing_finding("app/handler.py", 3))
        sarif, output = tmp_path / f"{fmt}.sarif", tmp_path / f"{fmt}.json"
        proc = cli(
            ["review", "--format", fmt, "--no-ci", "--sarif", str(sarif), "--output", str(output)], repo, env=env
        )
        assert proc.returncode == 1, proc.stderr
        for where, text in (
            ("stdout", proc.stdout),
            ("stderr", proc.stderr),
            ("--sarif", sarif.read_text()),
            ("--output", output.read_text()),
        ):
            assert ENV_SECRET not in text and OPENAI_SHAPED not in text and FAKE_KEY not in text, (fmt, where)
        assert "TIERAGENT_SECRET_" in proc.stdout and "TIERAGENT_SECRET_" in sarif.read_text()


def test_fix_text_output_is_masked_like_its_json(calc_repo, monkeypatch):
    from conftest import GOOD_PATCH
    from flowkit import fix

    from tieragent.cli.render import print_fix_result

    monkeypatch.setenv("DEPLOY_TOKEN", ENV_SECRET)
    classify = json.dumps(
        {
            "task_class": "local",
            "risk": "low",
            "files": ["calc/ops.py"],
            "reason": f"add() subtracts; DEPLOY_TOKEN={ENV_SECRET} and {OPENAI_SHAPED} are unrelated",
        }
    )
    result = fix(calc_repo, scripted({("classify", "small"): [classify], ("patch", "mid"): [GOOD_PATCH]}))
    buffer = io.StringIO()
    print_fix_result(result, Console(file=buffer, width=300, color_system=None))
    shown = buffer.getvalue()
    assert "add() subtracts" in shown and "TIERAGENT_SECRET_" in shown
    assert ENV_SECRET not in shown and OPENAI_SHAPED not in shown


def test_the_file_contents_read_for_a_review_are_kept_by_that_review_only(tmp_path):
    """Each side of a file is read once per review, and the reads go with the review: a long-lived
    process (a chat session) must not keep every past review's workspace and files."""
    import gc
    import weakref

    from tieragent.flows.review.reviewer import Contents

    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    (repo / "a.py").write_text("x = 2\n")
    ws = GitWorkspace.open(repo)
    read = Contents(ws, changes.working_tree(ws))
    assert read.new("a.py") == b"x = 2\n"
    (repo / "a.py").write_text("x = 3\n")
    assert read.new("a.py") == b"x = 2\n"  # read once: the review judges one state of the file
    gone = weakref.ref(read)
    del read
    gc.collect()
    assert gone() is None
