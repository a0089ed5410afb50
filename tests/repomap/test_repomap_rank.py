"""Ranking: mentions, BM25, the reference graph and PageRank."""

from __future__ import annotations

import pytest
from repomap_fixtures import make_repo  # noqa: F401  (fixtures)

from tieragent.repo.map import build_repo_map
from tieragent.repo.map.rank import file_kind, pagerank, request_mentions
from tieragent.repo.map.terms import identifier_terms, stem, text_terms

APP = {
    "shop/models.py": (
        "class Order:\n"
        "    def total(self):\n        return sum(i.price for i in self.items)\n\n"
        "class Customer:\n    def display_name(self):\n        return self.name\n"
    ),
    "shop/billing.py": (
        "from shop.models import Order\n\n"
        "def compute_invoice_tax(order: Order, rate):\n    return order.total() * rate\n\n"
        "def send_invoice(order):\n    return compute_invoice_tax(order, 0.2)\n"
    ),
    "shop/views.py": (
        "from shop.models import Order, Customer\nfrom shop.billing import send_invoice\n\n"
        "def checkout(request):\n    order = Order()\n    send_invoice(order)\n    return Customer()\n"
    ),
    "shop/emails.py": (
        '"""Outgoing email: templates and delivery through SMTP."""\n\n'
        "def deliver_email(to, subject, body):\n    smtp_connection().sendmail(to, subject, body)\n\n"
        "def smtp_connection():\n    return None\n"
    ),
    "shop/util.py": "def slugify(text):\n    return text.lower().replace(' ', '-')\n",
    "tests/test_billing.py": (
        "from shop.billing import compute_invoice_tax, send_invoice\nfrom shop.models import Order\n\n"
        "def test_compute_invoice_tax():\n    assert compute_invoice_tax(Order(), 0) == 0\n"
    ),
    "docs/billing.md": "# Billing\nInvoices and tax computation.\n",
}


@pytest.fixture
def shop(make_repo):
    return build_repo_map(make_repo(APP))


def top(rmap, request, n=1):
    return [r.path for r in rmap.rank(request)[:n]]


def test_a_mentioned_symbol_puts_its_defining_file_first(shop):
    assert top(shop, "compute_invoice_tax returns a negative number for refunds") == ["shop/billing.py"]
    assert top(shop, "Customer.display_name should fall back to the email") == ["shop/models.py"]
    assert top(shop, "why does `smtp_connection` return None?") == ["shop/emails.py"]
    assert top(shop, "slugify() keeps apostrophes") == ["shop/util.py"]
    ranked = shop.rank("compute_invoice_tax returns a negative number for refunds")
    assert "defines 'compute_invoice_tax', mentioned in request" in ranked[0].reasons


def test_a_mentioned_path_puts_that_file_first(shop):
    assert top(shop, "clean up util.py please") == ["shop/util.py"]
    assert top(shop, "in shop/emails.py the subject is not encoded") == ["shop/emails.py"]
    r = shop.rank("clean up util.py please")[0]
    assert any(x.startswith("path mentioned in request") for x in r.reasons)


def test_plain_words_find_files_through_bm25(shop):
    assert top(shop, "emails are delivered twice over SMTP") == ["shop/emails.py"]
    r = shop.rank("emails are delivered twice over SMTP")[0]
    assert any(x.startswith("bm25") and "smtp" in x for x in r.reasons)


def test_tests_and_docs_are_demoted_unless_asked_for(shop):
    order = top(shop, "invoice tax computation is wrong", 7)
    assert order.index("shop/billing.py") < order.index("tests/test_billing.py")
    assert order.index("shop/billing.py") < order.index("docs/billing.md")
    r = next(x for x in shop.rank("invoice tax computation is wrong") if x.path == "tests/test_billing.py")
    assert "test file (x0.6)" in r.reasons
    r = next(x for x in shop.rank("the invoice tax test is flaky") if x.path == "tests/test_billing.py")
    assert not any("test file" in x for x in r.reasons)


def test_graph_neighbours_of_the_seed_outrank_unrelated_files(shop):
    ranked = shop.rank("compute_invoice_tax returns a negative number for refunds")
    pos = {r.path: i for i, r in enumerate(ranked)}
    # billing uses models.Order: the walk from billing reaches models, not emails or util
    assert pos["shop/models.py"] < pos["shop/emails.py"]
    assert pos["shop/models.py"] < pos["shop/util.py"]


def test_without_a_request_the_most_used_file_leads(shop):
    ranked = shop.rank(None)
    assert ranked[0].path == "shop/models.py"  # used by billing, views and the tests
    assert all(r.reasons and r.reasons[0].startswith("pagerank") for r in ranked)
    assert ranked == sorted(ranked, key=lambda r: -r.score)
    assert shop.rank("   ")[0].path == "shop/models.py"


def test_dependencies_and_dependents(shop):
    deps = dict(shop.dependencies("shop/views.py"))
    assert set(deps) == {"shop/models.py", "shop/billing.py"}
    users = dict(shop.dependents("shop/billing.py"))
    assert set(users) == {"shop/views.py", "tests/test_billing.py"}


def test_every_file_is_ranked_once(shop):
    ranked = shop.rank("anything at all")
    assert sorted(r.path for r in ranked) == sorted(shop.paths)


# ------------------------------------------------------------ PageRank itself


def test_pagerank_is_a_distribution_and_favours_the_hub():
    # 1, 2, 3 all point at 0; 0 points at 1
    graph = [{1: 1.0}, {0: 1.0}, {0: 1.0}, {0: 1.0}]
    r = pagerank(graph, None)
    assert sum(r) == pytest.approx(1.0, abs=1e-6)
    assert r[0] == max(r) and r[1] > r[2] == pytest.approx(r[3])


def test_pagerank_personalization_and_dangling_nodes():
    graph = [{1: 1.0}, {2: 1.0}, {}, {}]  # 0 -> 1 -> 2 (dangling); 3 isolated
    r = pagerank(graph, {0: 1.0})
    assert sum(r) == pytest.approx(1.0, abs=1e-6)
    assert r[3] == 0.0  # unreachable from the seed
    assert r[0] > 0 and r[1] > 0 and r[2] > 0
    uniform = pagerank(graph, None)
    assert uniform[3] > 0
    assert pagerank([], None) == []


def test_pagerank_edge_weights_matter():
    graph = [{1: 9.0, 2: 1.0}, {}, {}]
    r = pagerank(graph, {0: 1.0})
    assert r[1] > 3 * r[2]


# ------------------------------------------------------------ request parsing and terms


def test_request_mentions_pick_code_shaped_words():
    mentions, paths = request_mentions(
        "Session.send ignores `timeout`; see utils.py and get_netrc_auth(), also HTTPAdapter. The Widget is fine, "
        "e.g. here",
        defined={"Widget"},
    )
    texts = [m.text for m in mentions]
    assert "Session.send" in texts and "timeout" in texts and "get_netrc_auth" in texts and "HTTPAdapter" in texts
    assert "Widget" in texts  # capitalised and defined in the repository
    assert "The" not in texts and "e.g" not in texts and "utils.py" not in texts
    assert paths == ["utils.py"]
    assert next(m for m in mentions if m.text == "Session.send").names == ["send", "Session"]


def test_terms_meet_in_the_middle():
    assert identifier_terms("parseHeaderLinks") == ("pars", "header", "link")
    assert identifier_terms("HTTPAdapter") == ("http", "adapter")
    assert stem("cookies") == stem("cookie") and stem("proxies") == stem("proxy")
    assert stem("encoding") == stem("encoded") == stem("encode")
    assert text_terms("The redirects are wrong") == ["redirect"]


def test_file_kinds():
    assert file_kind("tests/test_x.py") == "test"
    assert file_kind("src/x_test.go") == "test"
    assert file_kind("web/button.spec.ts") == "test"
    assert file_kind("docs/index.rst") == "doc"
    assert file_kind("README.md") == "doc"
    assert file_kind("src/app.py") == "source"
    assert file_kind("setup.cfg") == "other"
