"""Risk evidence about paths and patches. Pure functions of the paths, the edits and the rules."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..core.config import RiskConfig
from ..core.globs import matches
from ..repo.diffs import EditStat

DEFAULT_SENSITIVE = (
    "*auth*",
    "*security*",
    "*crypto*",
    "*secret*",
    "*password*",
    "*permission*",
    "*payment*",
    "*billing*",
    "migrations/",
    "*/migrations/*",
    ".github/workflows/",
    "Dockerfile*",
    "*.dockerfile",
    "docker-compose*.y*ml",
    "requirements*.txt",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Pipfile",
    "package.json",
    "go.mod",
    "Cargo.toml",
    "Gemfile",
    "pom.xml",
    "build.gradle*",
    "*.lock",
    "package-lock.json",
    "pnpm-lock.yaml",
    "go.sum",
    "Pipfile.lock",
    ".tieragent.yaml",  # it routes keys and chooses the commands that judge a patch
)


@dataclass(frozen=True)
class RiskRules:
    """The rules in force; built from `RiskConfig`, which holds the defaults and documents them."""

    sensitive_paths: tuple[str, ...]
    max_files: int
    max_changed_lines: int
    max_deleted_lines: int

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> RiskRules:
        base = tuple(cfg.sensitive_paths) if cfg.sensitive_paths is not None else DEFAULT_SENSITIVE
        return cls(base + tuple(cfg.extra_sensitive_paths), cfg.max_files, cfg.max_changed_lines, cfg.max_deleted_lines)


def sensitive_paths(paths: Iterable[str], rules: RiskRules) -> list[str]:
    return [f"sensitive path: {p}" for p in paths if matches(p, rules.sensitive_paths)]


PUBLIC_KINDS = {"function", "method", "class", "constructor", "interface", "struct", "trait", "enum", "type"}


def _public_definitions(path: str, data: bytes | None) -> dict[str, tuple[str, int]]:
    """Public definitions in `data` (as if it were `path`) -> (signature line, line number), from tree-sitter tags."""
    from ..repo.map import symbols_for_source

    if data is None:
        return {}
    try:
        symbols = symbols_for_source(path, data)
    except Exception:  # an unsupported language or unparsable file: no signature evidence
        return {}
    return {
        (f"{s.parent}.{s.name}" if s.parent else s.name): (s.signature.strip(), s.line)
        for s in symbols
        if s.kind in PUBLIC_KINDS
        and not s.local
        and not s.name.startswith("_")
        and not (s.parent or "").startswith("_")
    }


def public_signatures(path: str, data: bytes) -> dict[str, str]:
    """Public definitions in `data` (as if it were `path`) -> their signature line."""
    return {name: sig for name, (sig, _) in _public_definitions(path, data).items()}


SignatureReader = Callable[[str, bytes], dict[str, str]]  # path, content -> public name -> signature line


def patch_risk(edits: list[EditStat], rules: RiskRules, signatures: SignatureReader | None = None) -> list[str]:
    """Reasons this patch is high-risk (empty when none)."""
    reasons = sensitive_paths([e.path for e in edits], rules)
    if len(edits) > rules.max_files:
        reasons.append(f"large patch: {len(edits)} files")
    added = removed = 0
    for e in edits:
        a, r = e.counts()
        added, removed = added + a, removed + r
        if e.new is None and e.old is not None:
            reasons.append(f"deletes file {e.path}")
    if added + removed > rules.max_changed_lines:
        reasons.append(f"large patch: {added + removed} changed lines")
    if removed - added > rules.max_deleted_lines:
        reasons.append(f"deletes code: {removed - added} lines net")
    if signatures is not None:
        for e in edits:
            if e.old is None or e.new is None:
                continue
            before, after = signatures(e.path, e.old), signatures(e.path, e.new)
            for name, sig in before.items():
                if name not in after:
                    reasons.append(f"removes public {name} in {e.path}")
                elif after[name] != sig:
                    reasons.append(f"changes the signature of public {name} in {e.path}")
    return reasons


@dataclass(frozen=True)
class SignatureChange:
    name: str
    what: str  # "removes public X" | "changes the signature of public X" | "adds public X"
    old_line: int | None  # where it was defined before (1-based)
    new_line: int | None  # where it is defined after


def signature_changes(path: str, old: bytes | None, new: bytes | None) -> list[SignatureChange]:
    """Public definitions removed or re-signed between two versions of a file, with their lines."""
    before, after = _public_definitions(path, old), _public_definitions(path, new)
    changes = []
    for name, (sig, line) in before.items():
        if name not in after:
            changes.append(SignatureChange(name, f"removes public {name} in {path}", line, None))
        elif after[name][0] != sig:
            changes.append(
                SignatureChange(name, f"changes the signature of public {name} in {path}", line, after[name][1])
            )
    return changes


# What lets code reach outside itself: processes, the network, the environment (keys live there).
CAPABILITIES = {
    "runs processes": re.compile(
        r"\b(subprocess\.|os\.(system|popen|exec\w*|spawn\w*)\b|pty\.spawn|child_process|execSync|spawnSync|"
        r"exec\.Command|std::process::Command|Runtime\.getRuntime\(\)\.exec|ProcessBuilder)"
    ),
    "uses the network": re.compile(
        r"\b(socket\.|urllib|http\.client|requests\.(get|post|put|delete|request|Session)|httpx\.|aiohttp|"
        r"fetch\(|XMLHttpRequest|net/http|net\.Dial|reqwest::|HttpClient|new URL\()"
    ),
    "reads the environment": re.compile(
        r"\b(os\.environ|os\.getenv|getenv\(|process\.env|std::env::var|System\.getenv|environ\[)"
    ),
    "evaluates code": re.compile(r"\b(eval|exec)\s*\(|\bcompile\s*\(.*exec|new Function\(|pickle\.loads"),
}
_ASKED = {
    "runs processes": re.compile(r"(?i)\b(process|subprocess|command|shell|spawn|exec)"),
    "uses the network": re.compile(
        r"(?i)\b(http|network|request|url|api|socket|fetch|download|upload|endpoint|server)"
    ),
    "reads the environment": re.compile(r"(?i)\b(env|environment|variable|config|setting)"),
    "evaluates code": re.compile(r"(?i)\b(eval|exec|dynamic|plugin|expression)"),
}


def capability_additions(edits: list[EditStat], request: str) -> list[str]:
    """Reasons for added lines that reach processes, the network, the environment or eval, when the
    request says nothing of the kind: a patch a misled model wrote could smuggle them in."""
    reasons = []
    for e in edits:
        added = [
            line
            for line in difflib.ndiff(
                (e.old or b"").decode(errors="replace").splitlines(),
                (e.new or b"").decode(errors="replace").splitlines(),
            )
            if line.startswith("+ ")
        ]
        text = "\n".join(added)
        for what, pattern in CAPABILITIES.items():
            if pattern.search(text) and not _ASKED[what].search(request):
                reasons.append(f"adds code that {what} in {e.path}, which the request did not ask for")
    return reasons
