"""Outlines and related signatures stay within their token budgets and show the right things."""

from __future__ import annotations

import pytest
from repomap_fixtures import repo_writer  # noqa: F401  (fixtures)

from tieragent.core.tokens import estimate_tokens
from tieragent.repo.map import build_repo_map, symbols_for_source


def big_repo_files() -> dict[str, str]:
    files = {}
    for m in range(12):
        body = [f"from pkg.mod{(m + 1) % 12} import helper_{(m + 1) % 12}_0\n\n"]
        body.append(f"class Widget{m}:\n")
        for k in range(15):
            body.append(
                f"    def method_{m}_{k}(self, alpha, beta=None):\n        return helper_{(m + 1) % 12}_0(alpha)\n\n"
            )
        for k in range(10):
            body.append(f"def helper_{m}_{k}(value):\n    return value\n\n")
        files[f"pkg/mod{m}.py"] = "".join(body)
    files["pkg/render.py"] = (
        "from pkg.mod0 import Widget0\n\n"
        "def render_invoice_pdf(invoice, template=None):\n    return Widget0()\n\n"
        "def _private_helper():\n    pass\n"
    )
    return files


@pytest.fixture(scope="module")
def rmap(tmp_path_factory, repo_writer):
    return build_repo_map(repo_writer(tmp_path_factory.mktemp("outline") / "repo", big_repo_files()))


@pytest.mark.parametrize("budget", [1, 5, 20, 60, 150, 400, 1500, 5000])
def test_outline_respects_its_token_budget(rmap, budget):
    text = rmap.outline("render_invoice_pdf ignores the template", budget)
    assert estimate_tokens(text) <= budget
    if budget >= 20:
        assert text.startswith("pkg/render.py\n")


def test_outline_shows_top_files_with_signature_lines(rmap):
    text = rmap.outline("render_invoice_pdf ignores the template", 1500)
    lines = text.splitlines()
    assert lines[0] == "pkg/render.py"
    assert "  def render_invoice_pdf(invoice, template=None):" in lines
    assert "return" not in text  # bodies are never shown
    # methods are indented under their class, which is shown with them
    named = rmap.outline("Widget0.method_0_7 returns None", 1500).splitlines()
    assert named[:2] == ["pkg/mod0.py", "  class Widget0:"]
    block = named[: named.index(next(x for x in named[1:] if not x.startswith(" ")))]
    assert "    def method_0_7(self, alpha, beta=None):" in block
    # large files are cut with a count of what was left out
    assert any(line.startswith("  … +") and line.endswith(" more") for line in lines)
    # the request's file is followed by its neighbour (render uses mod0)
    files = [line for line in lines if line and not line.startswith(" ")]
    assert files[1] == "pkg/mod0.py"


def test_outline_with_no_request_and_tiny_budget(rmap):
    assert estimate_tokens(rmap.outline(None, 40)) <= 40
    assert rmap.outline(None, 0) == ""


def test_related_signatures_exclude_picked_and_respect_budget(rmap):
    picked = ["pkg/mod3.py"]
    text = rmap.related_signatures(picked, 400)
    assert estimate_tokens(text) <= 400
    headers = [line for line in text.splitlines() if line and not line.startswith(" ")]
    paths = [h.split("  (")[0] for h in headers]
    assert "pkg/mod3.py" not in paths
    assert "pkg/mod4.py" in paths  # mod3 imports from mod4
    assert "pkg/mod2.py" in paths  # mod2 imports from mod3
    assert any("used by the picked files" in h for h in headers)
    assert any("uses the picked files" in h for h in headers)
    # of the dependency, the definition the picked file uses comes first
    block = text.split("pkg/mod4.py")[1]
    assert "def helper_4_0(value):" in block
    for budget in (0, 3, 30, 100):
        assert estimate_tokens(rmap.related_signatures(picked, budget)) <= budget
    assert rmap.related_signatures(["no/such/file.py"], 500) == ""


def test_defined_symbols(rmap):
    syms = rmap.defined_symbols("pkg/render.py")
    assert [(s.name, s.kind, s.line) for s in syms] == [
        ("render_invoice_pdf", "function", 3),
        ("_private_helper", "function", 6),
    ]
    assert syms[0].signature == "def render_invoice_pdf(invoice, template=None):"
    assert rmap.defined_symbols("nope.py") == []


def test_symbols_for_source_compares_versions():
    before = symbols_for_source("a.py", b"def f(a):\n    pass\n")
    after = symbols_for_source("a.py", b"def f(a, b):\n    pass\n")
    assert before[0].signature != after[0].signature
    assert symbols_for_source("README.md", b"# hi\n") == []


def test_resolve_paths_written_by_a_model(rmap):
    assert rmap.resolve("pkg/render.py") == "pkg/render.py"
    assert rmap.resolve("./pkg/render.py") == "pkg/render.py"
    assert rmap.resolve("`render.py`") == "pkg/render.py"
    assert rmap.resolve("missing.py") is None
