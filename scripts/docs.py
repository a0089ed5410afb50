"""Keep the generated parts of README.md and docs/*.md equal to their sources, and check the docs.

    python scripts/docs.py           rewrite every generated block from its source
    python scripts/docs.py --check   change nothing; name each stale block and each broken rule, exit 1

Generated text sits between two HTML comments, which GitHub does not show:

    <!-- help: tieragent review -->       the command's --help, rendered in-process at a fixed width
    ...                                   (every command and subcommand needs one block in docs/)
    <!-- /help -->

    <!-- config: validate -->             a table of a config section's settings, from the pydantic
    ...                                   models' field descriptions (`tiers.*` for a tier's settings)
    <!-- /config -->

    <!-- fig: NAME -->...<!-- /fig -->    a measured figure, on one line. BENCHMARKS.md holds the source
                                          span of each NAME (once); README.md and docs/ copy it.

The checks beside the rewrite: every relative link leads to a file and heading that exist, and no
measured-looking figure (sizes in MB, seconds with decimals, rates, dollar amounts with cents,
three-decimal ratios) appears in README.md or docs/ outside a `fig` span or code, so a figure is
quoted from BENCHMARKS.md only, never retyped. Standard library and tieragent only.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = "BENCHMARKS.md"
HELP_WIDTH = 100  # the CLI's own max_content_width: help reads the same in a wide terminal
HINT = "run python scripts/docs.py"
TRUSTED_ONLY = "[trusted layers](security.md#the-trust-model)"  # config tables live in docs/

HELP_BLOCK = re.compile(r"(<!-- help: (?P<name>[^>]*?) -->\n)(?P<body>.*?)(<!-- /help -->)", re.S)
CONFIG_BLOCK = re.compile(r"(<!-- config: (?P<name>[^>]*?) -->\n)(?P<body>.*?)(<!-- /config -->)", re.S)
FIG_SPAN = re.compile(r"(<!-- fig: (?P<name>[a-z0-9][a-z0-9.-]*) -->)(?P<body>[^\n]*?)(<!-- /fig -->)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"!?\[(?:[^\]\n]|\][^(\n])*?\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"(?P<id>[^\"]+)\"")
# What a measurement looks like, as opposed to a setting or a count.
MEASURED = re.compile(
    r"\b\d[\d,]*(?:\.\d+)?\s?(?:[KMG]i?B|kB)\b"  # sizes
    r"|\b\d+\.\d+\s?(?:s|ms)\b"  # seconds with decimals
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:hunks|files|lines|tokens)/s\b"  # rates
    r"|\$\d+\.\d{2,}"  # dollars and cents
    r"|\b[01]\.\d{3}\b(?!\.\d)"  # recall and other ratios (not a version such as 1.110.2)
)


class DocsError(Exception):
    """Something the generator cannot fill in: an unknown command, section or figure."""


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# ---------------------------------------------------------------- help


def cli_app() -> Any:
    from tieragent.cli.app import app

    return app


def command_paths(app: Any | None = None) -> list[str]:
    """'tieragent', 'tieragent fix', ..., 'tieragent config show': every command and subcommand."""
    from typer.main import get_command

    def walk(cmd: Any, path: list[str]) -> Iterator[str]:
        yield " ".join(path)
        for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
            yield from walk(sub, [*path, name])

    return list(walk(get_command(app or cli_app()), ["tieragent"]))


def help_text(name: str, app: Any | None = None) -> str:
    """`NAME --help` as the CLI prints it at HELP_WIDTH columns, trailing spaces removed."""
    from typer.testing import CliRunner

    words = name.split()
    if not words or words[0] != "tieragent":
        raise DocsError(f"help: {name!r}: a help block names a command from 'tieragent' on")
    result = CliRunner().invoke(
        app or cli_app(),
        [*words[1:], "--help"],
        prog_name="tieragent",
        terminal_width=HELP_WIDTH,
        max_content_width=HELP_WIDTH,
        env={"COLUMNS": str(HELP_WIDTH), "NO_COLOR": "1"},
    )
    if result.exit_code != 0 or not result.output.startswith("Usage:"):
        raise DocsError(f"help: {name!r}: not a command ({result.output.strip().splitlines()[-1:]})")
    return "\n".join(line.rstrip() for line in result.output.rstrip().splitlines()) + "\n"


def help_body(name: str, app: Any | None = None) -> str:
    return "```text\n" + help_text(name, app) + "```\n"


# ---------------------------------------------------------------- config


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (`TierConfig | None`), or None."""
    from pydantic import BaseModel

    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def section_model(name: str) -> Any:
    """The model of a dotted section: 'validate', 'tiers', 'tiers.*', 'tiers.*.price'."""
    from tieragent.core.config import Config

    model: Any = Config
    for part in name.split("."):
        fields = model.model_fields
        field = next(iter(fields.values())) if part == "*" else fields.get(part)
        if field is None:  # `validate` is the alias of `validation`
            field = next((f for f in fields.values() if f.alias == part), None)
        model = _model_in(field.annotation) if field is not None else None
        if model is None:
            raise DocsError(f"config: {name!r}: no such section of the configuration")
    return model


def type_name(annotation: Any) -> str:
    """A reader's name for a field's type: 'number', 'diff \\| whole \\| auto', 'list of text'."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin is list:
        return "list of " + type_name(args[0])
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    if _model_in(annotation) is not None:
        return "mapping (below)"
    if getattr(annotation, "__metadata__", None) is not None:  # Annotated[int, ...]
        return type_name(args[0])
    names = {str: "text", float: "number", int: "integer", bool: "true \\| false"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def yaml_value(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    return str(value)


def default_of(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if _model_in(field.annotation) is not None and value is not None:
        return "(below)"
    return "`" + yaml_value(value) + "`" if value is not None else "unset"


def config_body(name: str) -> str:
    """The settings of one section as a Markdown table: key, type, default, which layers may set it, meaning."""
    from tieragent.core.trust import is_guarded

    rows = ["| setting | type | default | set by | meaning |", "|---|---|---|---|---|"]
    for field_name, field in section_model(name).model_fields.items():
        key = f"{name}.{field.alias or field_name}"
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        layers = TRUSTED_ONLY if is_guarded(key) else "any layer"
        rows.append(f"| `{key}` | {type_name(field.annotation)} | {default_of(field)} | {layers} | {meaning} |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- figures


def figures(benchmarks_text: str) -> dict[str, str]:
    """NAME -> the text of BENCHMARKS.md's `fig` span of that name; a name given twice is an error."""
    found: dict[str, str] = {}
    for m in FIG_SPAN.finditer(benchmarks_text):
        if m["name"] in found:
            raise DocsError(f"{BENCHMARKS}: fig: {m['name']} is marked twice; a figure has one source")
        found[m["name"]] = m["body"]
    return found


# ---------------------------------------------------------------- rewriting


def regenerate(text: str, figs: dict[str, str], app: Any | None = None) -> str:
    """The text with every generated block and figure span filled from its source."""

    def fig(m: re.Match[str]) -> str:
        if m["name"] not in figs:
            raise DocsError(f"fig: {m['name']}: BENCHMARKS.md has no span of that name")
        return m[1] + figs[m["name"]] + m[4]

    text = HELP_BLOCK.sub(lambda m: m[1] + help_body(m["name"], app) + m[4], text)
    text = CONFIG_BLOCK.sub(lambda m: m[1] + config_body(m["name"]) + m[4], text)
    return FIG_SPAN.sub(fig, text)


def stale_files(root: Path = ROOT, app: Any | None = None) -> dict[Path, str]:
    """The doc files whose generated parts differ from their sources, with the text they should have."""
    figs = figures((root / BENCHMARKS).read_text(encoding="utf-8"))
    out = {}
    for path in doc_files(root):
        text = path.read_text(encoding="utf-8")
        fresh = regenerate(text, figs, app)
        if fresh != text:
            out[path] = fresh
    return out


# ---------------------------------------------------------------- checks


def uncovered_commands(root: Path = ROOT, app: Any | None = None) -> list[str]:
    """Commands with no help block in docs/ (a new command fails the check until it has one)."""
    shown = {m["name"] for p in doc_files(root)[1:] for m in HELP_BLOCK.finditer(p.read_text(encoding="utf-8"))}
    return [c for c in command_paths(app) if c not in shown]


def prose(text: str) -> str:
    """The text without code, generated blocks and figure spans: what a person typed."""
    for pattern in (HELP_BLOCK, CONFIG_BLOCK, FENCE, FIG_SPAN, INLINE_CODE):
        text = pattern.sub(" ", text)
    return text


def loose_figures(text: str) -> list[str]:
    """Measured-looking figures typed outside a `fig` span."""
    return [m[0] for m in MEASURED.finditer(prose(text))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a Markdown file offers: its headings' slugs (-1, -2 for repeats) and <a id>."""
    seen: dict[str, int] = {}
    out = {m["id"] for m in HTML_ANCHOR.finditer(text)}
    for m in HEADING.finditer(FENCE.sub("", text)):
        base = slug(m["text"])
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """The relative links of one file that lead nowhere: a missing file, or a missing heading."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in LINK.finditer(INLINE_CODE.sub("", FENCE.sub("", text))):
        target = m["target"]
        if re.match(r"^[a-z][a-z+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists() or root.resolve() not in (dest, *dest.parents):
            out.append(f"{target}: no such file in the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            out.append(f"{target}: {dest.name} has no heading with that anchor")
    return out


def problems(root: Path = ROOT, app: Any | None = None) -> list[Problem]:
    """Everything `--check` reports."""
    try:
        stale = stale_files(root, app)
    except DocsError as err:
        return [Problem("docs", str(err))]
    found = [Problem(p.relative_to(root).as_posix(), f"generated text is stale: {HINT}") for p in stale]
    found += [Problem("docs/cli.md", f"no `<!-- help: {c} -->` block for {c}") for c in uncovered_commands(root, app)]
    for path in doc_files(root):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        found += [
            Problem(rel, f"figure {f!r} typed by hand: quote BENCHMARKS.md with a fig span")
            for f in loose_figures(text)
        ]
        found += [Problem(rel, f"broken link {link}") for link in broken_links(path, root)]
    return found


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        found = problems()
        for p in found:
            print(p)
        return 1 if found else 0
    if argv[1:]:
        print(__doc__)
        return 2
    for path, text in stale_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"rewrote {path.relative_to(ROOT)}")
    for p in problems():
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
