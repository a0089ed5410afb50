"""The docs say what the code does: README.md and docs/ are checked against their sources.

- Each command's `--help` quoted in docs/ equals the real output, and every command has a block.
- The config tables equal the pydantic models' field descriptions.
- Every measured figure is quoted from BENCHMARKS.md through a `fig` span, never retyped.
- Every relative link leads to a file and heading that exist.

The generator and checker is `scripts/docs.py`; when a check fails, `python scripts/docs.py` rewrites
the generated parts. Everything runs in this process (help is rendered with typer's CliRunner).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]


def _load_docs_script():
    spec = importlib.util.spec_from_file_location("tieragent_docs_script", ROOT / "scripts" / "docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


docs = _load_docs_script()


# ---------------------------------------------------------------- the repository's own docs


def test_generated_docs_are_current():
    stale = sorted(p.relative_to(ROOT).as_posix() for p in docs.stale_files(ROOT))
    assert not stale, f"generated text differs from its source in {', '.join(stale)}: run python scripts/docs.py"


def test_every_command_and_subcommand_has_its_help_in_docs():
    commands = docs.command_paths()
    assert {"tieragent", "tieragent fix", "tieragent review", "tieragent config show"} <= set(commands)
    missing = docs.uncovered_commands(ROOT)
    assert not missing, (
        f"no help block in docs/ for {missing}: add `<!-- help: NAME -->` and run python scripts/docs.py"
    )


def test_figures_are_quoted_from_benchmarks_only():
    figures = docs.figures((ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"))
    assert "litellm-import" in figures
    typed = {
        p.relative_to(ROOT).as_posix(): docs.loose_figures(p.read_text(encoding="utf-8")) for p in docs.doc_files(ROOT)
    }
    typed = {path: found for path, found in typed.items() if found}
    assert not typed, f"figures typed by hand (quote BENCHMARKS.md with a fig span): {typed}"


def test_relative_links_lead_somewhere():
    broken = {p.relative_to(ROOT).as_posix(): docs.broken_links(p, ROOT) for p in docs.doc_files(ROOT)}
    broken = {path: links for path, links in broken.items() if links}
    assert not broken, f"broken links: {broken}"


def test_readme_is_a_front_page_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= 15 * 1024
    assert "&& .venv/bin/tieragent demo" in readme.split("```")[1]
    # CI runs the README's second command verbatim (.ci/run says so): it must still be there.
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ci_command = ci_lines[ci_lines.index("# The README's second command, verbatim:") + 1]
    assert ci_command.startswith("python3 -m venv") and ci_command in readme.split("```")[1]
    assert len(docs.doc_files(ROOT)) > 5  # the reference lives in docs/


# ---------------------------------------------------------------- the checks can fail


def _root(tmp_path: Path, readme: str, benchmarks: str = "", **pages: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    (tmp_path / "BENCHMARKS.md").write_text(benchmarks, encoding="utf-8")
    for name, text in pages.items():
        (tmp_path / "docs" / f"{name}.md").write_text(text, encoding="utf-8")
    return tmp_path


def _small_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, rich_markup_mode=None)

    @app.command()
    def hello() -> None:
        """Say hello."""

    @app.command()
    def bye() -> None:
        """Say goodbye."""

    return app


def test_a_stale_help_block_is_found_and_rewritten_from_the_real_help(tmp_path):
    app = _small_app()
    page = "# CLI\n\n<!-- help: tieragent hello -->\n```text\nUsage: old text\n```\n<!-- /help -->\n"
    root = _root(tmp_path, "# x\n", cli=page)
    stale = docs.stale_files(root, app)
    assert list(stale) == [root / "docs" / "cli.md"]
    assert "Usage: tieragent hello [OPTIONS]\n\n  Say hello.\n" in stale[root / "docs" / "cli.md"]
    assert any("run python scripts/docs.py" in str(p) for p in docs.problems(root, app))


def test_a_command_without_a_help_block_fails_the_check(tmp_path):
    app = _small_app()
    page = docs.regenerate("<!-- help: tieragent hello -->\n<!-- /help -->\n", {}, app)
    root = _root(tmp_path, "# x\n", cli=page)
    assert docs.stale_files(root, app) == {}
    assert docs.uncovered_commands(root, app) == ["tieragent", "tieragent bye"]


def test_a_help_block_for_no_such_command_is_an_error(tmp_path):
    with pytest.raises(docs.DocsError, match="not a command"):
        docs.regenerate("<!-- help: tieragent nosuch -->\n<!-- /help -->\n", {}, _small_app())


def test_a_drifted_figure_is_stale_and_gets_its_source_back(tmp_path):
    bench = "import: <!-- fig: litellm-import -->2.60 s and 195 MB<!-- /fig --> here\n"
    readme = "litellm costs <!-- fig: litellm-import -->2.5 s and 190 MB<!-- /fig -->.\n"
    root = _root(tmp_path, readme, bench)
    assert docs.stale_files(root)[root / "README.md"] == (
        "litellm costs <!-- fig: litellm-import -->2.60 s and 195 MB<!-- /fig -->.\n"
    )
    with pytest.raises(docs.DocsError, match="no span of that name"):
        docs.regenerate("<!-- fig: nosuch -->1 s<!-- /fig -->", docs.figures(bench))


def test_a_figure_has_one_source():
    twice = "<!-- fig: a -->1<!-- /fig --> and <!-- fig: a -->2<!-- /fig -->"
    with pytest.raises(docs.DocsError, match="marked twice"):
        docs.figures(twice)


@pytest.mark.parametrize(
    "typed",
    ["about 200 MB", "takes 2.6 s to import", "1,031 hunks/s", "$0.00347 per solved task", "recall 0.967"],
)
def test_a_figure_typed_by_hand_is_found(typed):
    assert docs.loose_figures(f"litellm: {typed}.\n")


def test_figures_in_spans_code_and_settings_are_not_loose():
    text = (
        "<!-- fig: x -->195 MB<!-- /fig --> and `--max-cost 0.50 $0.50` and a 600 s timeout, tieragent 0.1.0, "
        "litellm 1.110.2, 2 attempts, Python 3.10\n```text\ncost $0.0123 in 0.93 s\n```\n"
    )
    assert docs.loose_figures(text) == []


def test_broken_links_and_anchors_are_found(tmp_path):
    page = "# Page\n\n## A heading, with `code`\n"
    readme = (
        "[ok](docs/page.md) [ok](docs/page.md#a-heading-with-code) [ok](#top) [ok](https://example.com/x)\n"
        "[gone](docs/missing.md) [no anchor](docs/page.md#nowhere) [self](#nowhere-here)\n\n# Top\n"
    )
    root = _root(tmp_path, readme, page=page)
    assert docs.broken_links(root / "README.md", root) == [
        "docs/missing.md: no such file in the repository",
        "docs/page.md#nowhere: page.md has no heading with that anchor",
        "#nowhere-here: README.md has no heading with that anchor",
    ]


def test_a_config_block_lists_every_setting_of_its_section_and_who_may_set_it():
    table = docs.config_body("validate")
    from tieragent.core.config import ValidateConfig

    for name in ValidateConfig.model_fields:
        assert f"`validate.{name}`" in table
    assert "| `validate.test` | text | unset | [trusted layers]" in table
    assert "| `budget.max_cost_usd` | number | `2.0` | any layer |" in docs.config_body("budget")
    with pytest.raises(docs.DocsError, match="no such section"):
        docs.config_body("nosuch")
