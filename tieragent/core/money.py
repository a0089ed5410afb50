"""How an amount of US dollars reads in messages: as many decimals as it has, at least two, at most six."""

from __future__ import annotations


def usd(amount: float) -> str:
    """`$2.00`, `$0.50`, `$1.234`, `$0.0001` (a budget of $0.0001 must not read as $0.00)."""
    text = f"{amount:.6f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"
