from __future__ import annotations

import os

from conftest import make_repo

from tieragent.repo.context import gather_files
from tieragent.repo.workspace import GitWorkspace


def test_gather_keeps_only_shareable_files_inside_the_repo(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret outside\n")
    root = make_repo(
        tmp_path / "r",
        {
            "src/a.py": "A = 1\n",
            "src/big.py": "x = 1\n" * 4000,
            ".env": "K=v\n",
            ".gitignore": "*.log\n",
            "run.log": "log\n",
        },
    )
    os.symlink(outside, root / "link.txt")
    ws = GitWorkspace.open(root)
    picks = [
        "./src/a.py",
        "b/src/a.py",
        "../outside.txt",
        "/etc/passwd",
        ".git/config",
        "link.txt",
        "nope.py",
        ".env",
        "run.log",
        "src/big.py",
    ]
    ctx = gather_files(ws, picks, budget_tokens=2000)
    assert list(ctx.texts) == ["src/a.py"]
    d = ctx.dropped
    assert "'..'" in d["../outside.txt"] and "absolute" in d["/etc/passwd"] and ".git" in d[".git/config"]
    assert "outside the repository" in d["link.txt"]
    assert d["nope.py"] == "does not exist"
    assert d[".env"] == "looks like a secret" and d["run.log"] == "ignored by git"
    assert d["src/big.py"].startswith("over the context budget")
    assert "### src/a.py" in ctx.render()
