from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAI

FAKE_KEY = "sk-fake-test-key-0123456789"
PRICES = {
    "small": {"input_per_mtok": 0.1, "output_per_mtok": 0.4, "cached_input_per_mtok": 0.01},
    "mid": {"input_per_mtok": 3.0, "output_per_mtok": 15.0, "cached_input_per_mtok": 0.3},
    "frontier": {"input_per_mtok": 15.0, "output_per_mtok": 75.0, "cached_input_per_mtok": 1.5},
}


def pytest_configure(config: pytest.Config) -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (this machine, CI), no Python process writes bytecode, so every
    `python -m tieragent` a test starts compiled the whole package again (0.15 s of CPU each, hundreds of
    times). Compiled once here, before the workers start, the subprocesses read it: the flag stops writing
    bytecode, not reading it."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not hasattr(config, "workerinput"):
        import compileall

        compileall.compile_dir(Path(__file__).resolve().parents[1] / "tieragent", quiet=1, workers=1)


_FROZEN_AT = [0]  # how many modules were loaded when the long-lived objects were last frozen


def _freeze_long_lived() -> None:
    """What the imports left (modules, classes, litellm's and pydantic's tables) lives until the worker ends;
    frozen, the garbage collector stops walking it on every full collection. Without this the workers spent
    8 s of CPU in the collector, most of it re-checking the same few hundred thousand objects."""
    gc.collect()
    gc.freeze()
    _FROZEN_AT[0] = len(sys.modules)


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze_long_lived()
    gc.set_threshold(50_000, 20, 50)  # a test makes a few thousand objects; collect less often than every 700


# Runs first (and, being about litellm, on xdist's first worker): it checks what this process's first import
# of litellm does, which would otherwise cost a process of its own (4-5 s of CPU).
FIRST_TEST = "test_litellm_import_loads_no_dotenv"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.name != FIRST_TEST)  # stable: the rest keep their order


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if len(sys.modules) > _FROZEN_AT[0] + 200:  # a test imported a large library (litellm: about 3,000 modules)
        _freeze_long_lived()


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's: `-p no:xdist` runs without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's `load` schedule, except that the tests that go through litellm all run on the first worker,
    which takes them first: litellm's import costs 4 s of CPU in each process that makes it. (Its
    `loadgroup` would do this with a mark, but stops grouping on pytest 9.2: pytest-dev/pytest-xdist#1386.)
    Such a test names litellm in its id: a carrier parameter, or its name."""
    from xdist.scheduler import LoadScheduling

    class LitellmOnOneWorker(LoadScheduling):
        def _send_tests(self, node: Any, num: int) -> None:
            assert self.collection is not None
            collection = self.collection
            if node is self.nodes[0]:  # the litellm tests first, each part in its order (a stable sort)
                chosen = sorted(self.pending, key=lambda i: "litellm" not in collection[i])[:num]
            else:
                chosen = [i for i in self.pending if "litellm" not in collection[i]][:num]
            if not chosen:
                if not self.node2pending[node]:
                    node.shutdown()  # what is left is the first worker's
                return
            taken = set(chosen)
            self.pending[:] = [i for i in self.pending if i not in taken]
            self.node2pending[node].extend(chosen)
            node.send_runtest_some(chosen)

    return LitellmOnOneWorker(config, log)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


REPO_CONFIG = (
    "[user]\n\tname = Test User\n\temail = test@example.invalid\n"
    "[commit]\n\tgpgsign = false\n[maintenance]\n\tauto = false\n"
)


_REPO_TEMPLATES: dict[str, Path] = {}  # committed repositories by their files, one per worker process


def make_repo(root: Path, files: dict[str, str], *, commit: bool = True) -> Path:
    """A git repository at `root` holding `files`, committed unless `commit` is false.

    The same files committed make the same repository, so a worker builds each such repository once with
    git and copies it after that (most tests start from the calc repository: three git processes each,
    a thousand and more in a run). A copy is a repository like the first: .git holds no absolute path."""
    if commit and not (root.exists() and any(root.iterdir())):
        key = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        template = _REPO_TEMPLATES.get(key)
        if template is None or not template.is_dir():
            template = Path(tempfile.mkdtemp(prefix="tieragent-test-repo-")) / "repo"
            _build_repo(template, files, commit=True)
            # its objects in one pack rather than a folder and a file each: a copy makes a third of the files
            git(template, "repack", "-a", "-d", "-q")
            atexit.register(shutil.rmtree, template.parent, True)
            _REPO_TEMPLATES[key] = template
        # copied, not copy2: fresh modification times, as files just written have (cargo's freshness check
        # in a shared target directory reads them)
        shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True, copy_function=shutil.copy)
        return root
    return _build_repo(root, files, commit=commit)


def _build_repo(root: Path, files: dict[str, str], *, commit: bool) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    # no template: git's sample hooks, description and info/exclude are inert, and a third of a new repository's
    # files (copying the committed ones is a cost per test, see make_repo)
    git(root, "init", "-q", "--template=")
    # what three `git config` calls would write, in one go; and no `git maintenance` after each commit
    with (root / ".git" / "config").open("a") as config:
        config.write(REPO_CONFIG)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


def add_auth_module(repo: Path) -> None:
    """A committed calc/auth.py: a patch beside it is high-risk (the frontier reviews it)."""
    (repo / "calc/auth.py").write_text("def check(token):\n    return token == 'x'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "auth")


def process_running(pid: int) -> bool:
    """Alive and not a zombie: a killed process that is not yet reaped (by us, or by whoever adopted an
    orphan) is gone, for a test's purpose. Reads /proc."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file in the work tree (not .git), byte for byte."""
    out = {}
    for p in sorted(root.rglob("*")):
        if ".git" in p.relative_to(root).parts:
            continue
        if p.is_file() or p.is_symlink():
            out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else b"->" + os.readlink(p).encode()
    return out


CALC_FILES = {
    "calc/__init__.py": "",
    "calc/ops.py": (
        'def add(a, b):\n    """Sum of a and b."""\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n'
    ),
    "tests/test_ops.py": (
        "from calc.ops import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_sub():\n    assert sub(5, 3) == 2\n"
    ),
    ".gitignore": "*.log\n",
}

# The calc repository's tests as one quick command (a twentieth of pytest's start-up), for runs whose point is
# not the test runner: it gives no per-test results, so a run judges by its exit code. `-S`: it needs nothing
# from site-packages, whose .pth hooks (the editable install's finder, coverage's) took 25 of its 35 ms.
CALC_QUICK_TEST = f'"{sys.executable}" -S -c "import calc.ops as o; assert o.add(2, 3) == 5 and o.sub(5, 3) == 2"'
# the same as config (a run's `extra`, or flowkit's `config`); such a run takes exit_code_only
QUICK = {"validate": {"test": CALC_QUICK_TEST}}

CLASSIFY_OPS = '{"task_class": "local", "risk": "low", "files": ["calc/ops.py"], "reason": "add() subtracts"}'
# classify's answer once calc/auth.py (add_auth_module) makes the task high-risk
CLASSIFY_WITH_AUTH = CLASSIFY_OPS.replace('["calc/ops.py"]', '["calc/auth.py", "calc/ops.py"]')
GOOD_PATCH = """Here is the fix:

```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,3 +1,3 @@
 def add(a, b):
     \"\"\"Sum of a and b.\"\"\"
-    return a - b
+    return a + b
```
"""
# the same fix as the complete new content of the file (the whole-file edit format)
WHOLE_FILE = '''```calc/ops.py
def add(a, b):
    """Sum of a and b."""
    return a + b


def sub(a, b):
    return a - b
```'''
BAD_PATCH = GOOD_PATCH.replace("return a + b", "return a * b")
# a patch that makes the test agree with the bug instead of fixing it
EDITS_TEST = """```diff
--- a/tests/test_ops.py
+++ b/tests/test_ops.py
@@ -4,2 +4,2 @@
 def test_add():
-    assert add(2, 3) == 5
+    assert add(2, 3) == -1
```"""


@pytest.fixture
def fake_server():
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def calc_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", CALC_FILES)


def write_config(repo: Path, server: FakeOpenAI, *, stream: bool = False, extra: dict | None = None) -> None:
    cfg = {
        "tiers": {
            tier: {
                "model": f"openai/fake-{tier}",
                "api_base": server.url,
                "api_key_env": "FAKE_PROVIDER_KEY",
                "price": PRICES[tier],
                "timeout_s": 20,
                "stream": stream,
            }
            for tier in ("small", "mid", "frontier")
        },
        "validate": {"test": f'"{sys.executable}" -m pytest -q -x', "timeout_s": 60},
        "provider": {"retries": 1, "backoff_s": 0.05},
        # the fake models stand for models known to write diffs (flowkit.FAKE_MODELS_WRITE_DIFFS), and
        # verification is off unless a test turns it on (flowkit.NO_VERIFY)
        "routing": {"edit_formats": {"*fake-*": "diff"}, "verify": "never"},
    }
    for k, v in (extra or {}).items():
        cfg.setdefault(k, {}).update(v) if isinstance(v, dict) else cfg.__setitem__(k, v)
    text = yaml.safe_dump(cfg)
    (repo / ".tieragent.yaml").write_text(text)
    trust_config(repo, text)


def trust_config(repo: Path, text: str) -> None:
    """Record that the user trusts `repo`'s config (it names a key variable), in the user state dir
    `cli_env(repo.parent)` gives the CLI: as if they had answered yes once."""
    from tieragent.core.trust import config_digest, remember_trusted

    remember_trusted(
        repo.resolve(),
        config_digest(text),
        ["written by the test"],
        path=state_home(repo.parent) / "tieragent" / "trusted-configs.json",
    )


def state_home(tmp_home: Path) -> Path:
    return tmp_home / "state"


def cli_env(tmp_home: Path) -> dict[str, str]:
    # CI and TIERAGENT_CI would switch the CLI to CI mode: tests ask for it where they mean it
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TIERAGENT_", "OPENAI_", "ANTHROPIC_", "GITHUB_", "CI_")) and k not in ("CI", "GITLAB_CI")
    }
    env["FAKE_PROVIDER_KEY"] = FAKE_KEY
    env["XDG_CONFIG_HOME"] = str(tmp_home / "config")  # keep the developer's user config out
    env["XDG_STATE_HOME"] = str(state_home(tmp_home))  # and the configs they trust (see trust_config)
    env["NO_COLOR"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the repositories under test need none of this venv's plugins
    return env


def run_cli(
    args: list[str], cwd: Path, *, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """The CLI as a subprocess: for what only a real process shows (signals, streams, imports, a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "tieragent", *args],
        cwd=cwd,
        env=env if env is not None else cli_env(cwd.parent),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """The CLI's `main()` in this process, with the environment `cli_env` gives a subprocess.

    `cli(["fix", "..."], repo)` returns a CompletedProcess-like result. Cheaper than `run_cli`:
    litellm is imported once per test session instead of once per command.
    """
    import signal

    from tieragent.cli import main

    def run(args: list[str], cwd: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in (env if env is not None else cli_env(tmp_path)).items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["tieragent", *args])
        old_term = signal.getsignal(signal.SIGTERM)
        try:
            main()
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        finally:
            signal.signal(signal.SIGTERM, old_term)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["tieragent", *args], code, out, err)

    return run
