"""`tieragent map [REQUEST] [--tokens N] [--json] [--explain]`: the outline the small model would see.

Calls no model and never imports litellm (nor anything that does), so it is quick and works
without keys: `tieragent map "redirects lose the auth header" --explain`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from ..core.errors import TieragentError, UsageError
from ..core.tokens import estimate_tokens
from .errors import report_error

EXPLAIN_MIN_FILES = 10


def map_report(cwd: Path, request: str | None, tokens: int | None) -> dict[str, Any]:
    """Everything `tieragent map` shows, as one JSON-ready dict."""
    from ..core.config import load_config
    from ..repo.map import build_repo_map
    from ..repo.workspace import GitWorkspace

    ws = GitWorkspace.open(Path(cwd))
    cfg = load_config(ws.root)
    budget = cfg.context.outline_tokens if tokens is None else tokens
    if budget <= 0:
        raise UsageError(f"--tokens must be a positive number of tokens (got {budget})")
    request = request if request and request.strip() else None
    started = time.perf_counter()
    rmap = build_repo_map(ws.root, cache_dir=ws.state_dir / "tags")
    ranked = rmap.rank(request)
    outline = rmap.outline(request, budget)
    shown = [line for line in outline.splitlines() if line and not line.startswith(" ")]
    n_explain = max(len(shown), EXPLAIN_MIN_FILES)
    s = rmap.stats
    return {
        "status": "ok",
        "root": str(ws.root),
        "request": request,
        "token_budget": budget,
        "outline_tokens": estimate_tokens(outline),
        "outline": outline,
        "outline_files": shown,
        "files": [{"path": r.path, "score": r.score, "reasons": r.reasons} for r in ranked[:n_explain]],
        "index": {
            "files": s.files,
            "skipped": s.skipped,
            "parsed": s.parsed,
            "reused": s.reused,
            "cache": s.cache,
            "seconds": round(time.perf_counter() - started, 3),
        },
    }


def run_map(cwd: Path, request: str | None, tokens: int | None, as_json: bool, explain: bool) -> int:
    """Body of `tieragent map`: prints the ranked outline (with --explain, each file's score and
    reasons; with --json, one JSON object on stdout and nothing else). Returns the exit code."""
    try:
        report = map_report(cwd, request, tokens)
    except TieragentError as err:
        return report_error(err, as_json, {"request": request})
    if as_json:
        if not explain:
            report["files"] = [{"path": f["path"], "score": f["score"]} for f in report["files"]]
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0
    out = sys.stdout
    if not report["outline"]:
        out.write("(no files to show: the repository has no indexable files)\n")
    else:
        out.write(report["outline"])
    if explain:
        idx = report["index"]
        out.write("\n")
        out.write(
            f"# {idx['files']} files indexed ({idx['parsed']} parsed, {idx['reused']} from cache [{idx['cache']}], "
            f"{idx['skipped']} skipped) in {idx['seconds']:.2f}s; outline {report['outline_tokens']}"
            f"/{report['token_budget']} tokens\n"
        )
        for n, f in enumerate(report["files"], 1):
            out.write(f"{n:>3}. {f['score']:.3f}  {f['path']}\n")
            for why in f["reasons"]:
                out.write(f"        {why}\n")
    out.flush()
    return 0
