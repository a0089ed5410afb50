from __future__ import annotations

import pytest

from tieragent.core.config import Price
from tieragent.model.ledger import Ledger, append_history, read_history
from tieragent.model.prices import cost_usd
from tieragent.model.protocol import ModelReply, Usage

PRICES = {
    "small": Price(input_per_mtok=1, output_per_mtok=2),
    "mid": None,  # unknown
    "frontier": Price(input_per_mtok=10, output_per_mtok=20, cached_input_per_mtok=1),
}
MODELS = {"small": "s", "mid": "m", "frontier": "f"}


def reply(i, o, c=0):
    return ModelReply("x", Usage(i, c, o), "model", 0.5)


def test_cost_with_cache():
    p = PRICES["frontier"]
    assert cost_usd(Usage(1000, 400, 100), p) == pytest.approx((600 * 10 + 400 * 1 + 100 * 20) / 1e6)
    assert cost_usd(Usage(1000, 400, 100), Price(input_per_mtok=10, output_per_mtok=20)) == pytest.approx(
        (1000 * 10 + 100 * 20) / 1e6
    )
    assert cost_usd(Usage(1, 0, 1), None) is None


def test_cache_writes_cost_their_own_price():
    """Anthropic bills prompt-cache writes at 1.25x the input price: a first call that writes the
    stable prefix must not be shown at the plain input price."""
    p = Price(input_per_mtok=3, output_per_mtok=15, cached_input_per_mtok=0.3, cache_write_per_mtok=3.75)
    u = Usage(5000, 1000, 100, cache_write_tokens=3000)  # 1,000 uncached, 1,000 read, 3,000 written
    assert cost_usd(u, p) == pytest.approx((1000 * 3 + 1000 * 0.3 + 3000 * 3.75 + 100 * 15) / 1e6)
    unpriced_writes = Price(input_per_mtok=3, output_per_mtok=15)
    assert cost_usd(u, unpriced_writes) == pytest.approx((4000 * 3 + 1000 * 3 + 100 * 15) / 1e6)
    row = Ledger({"small": p, "mid": p, "frontier": p}, MODELS).record(
        "patch", "mid", ModelReply("x", u, "m", 0.1), "ok"
    )
    assert row.cache_write_tokens == 3000 and row.to_json()["cache_write_tokens"] == 3000


def test_the_bundled_map_prices_anthropic_cache_writes():
    from tieragent.model.model_map import known_price

    price = known_price("anthropic/claude-sonnet-4-5")
    assert (
        price is not None
        and price.cache_write_per_mtok is not None
        and price.cache_write_per_mtok > price.input_per_mtok
    )


def test_unknown_price_is_none_never_zero():
    led = Ledger(PRICES, MODELS)
    row = led.record("patch", "mid", reply(100, 10), "ok")
    assert row.cost_usd is None
    t = led.totals()
    assert t["cost_complete"] is False
    assert t["by_tier"]["mid"]["unpriced_calls"] == 1
    assert led.unpriced_models() == ["model"]


def test_totals_and_frontier_estimate():
    led = Ledger(PRICES, MODELS)
    led.record("classify", "small", reply(1000, 100), "ok")
    led.record("patch", "frontier", reply(2000, 500, 1000), "tests-failed")
    t = led.totals()
    small = (1000 * 1 + 100 * 2) / 1e6
    front = (1000 * 10 + 1000 * 1 + 500 * 20) / 1e6
    assert t["cost_usd"] == pytest.approx(small + front)
    assert t["by_tier"]["small"]["calls"] == 1
    assert t["frontier_only_estimate_usd"] == pytest.approx((1000 * 10 + 100 * 20) / 1e6 + front)


def test_provider_error_row_has_no_usage():
    led = Ledger(PRICES, MODELS)
    row = led.record("patch", "frontier", None, "provider-error", "timed out\nmore")
    assert row.model == "f" and row.input_tokens == 0 and row.cost_usd == 0 and row.note == "timed out"


def test_history_roundtrip_skips_torn_lines(tmp_path):
    append_history(tmp_path, {"a": 1})
    with open(tmp_path / "ledger.jsonl", "a") as f:
        f.write('{"torn": ')
    assert read_history(tmp_path) == [{"a": 1}]
