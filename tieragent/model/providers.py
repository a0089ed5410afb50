"""The real provider for a config: each tier goes to `HttpProvider` or to litellm.

With `provider.client: auto`, tiers whose models are `openai/...`, `anthropic/...`, `ollama/...`
or `ollama_chat/...` are called directly; the rest go through `LiteLLMProvider`, and litellm is
imported only when such a tier exists. `provider.client: litellm` sends every tier through litellm.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..core.config import Price, ProviderConfig, TierConfig
from ..core.vocab import Tier
from .http_provider import HttpProvider
from .protocol import Carrier, KeyStatus, ModelReply, ModelRequest, Provider
from .wires import wire_of


def carrier(cfg: TierConfig, settings: ProviderConfig) -> Carrier:
    """Which provider calls this tier's model."""
    return Carrier.HTTP if settings.client == "auto" and wire_of(cfg.model) else Carrier.LITELLM


@dataclass
class TieredProvider:
    """One `Provider` over the tiers' providers; every method goes to the tier's own."""

    by_tier: dict[Tier, Provider]

    def complete(self, request: ModelRequest) -> ModelReply:
        return self.by_tier[request.tier].complete(request)

    def known_price(self, tier: Tier) -> Price | None:
        return self.by_tier[tier].known_price(tier)

    def context_window(self, tier: Tier) -> int | None:
        return self.by_tier[tier].context_window(tier)

    def key_status(self, tier: Tier) -> KeyStatus:
        return self.by_tier[tier].key_status(tier)

    def carriers(self) -> dict[Tier, Carrier]:
        return {t: p.carriers()[t] for t, p in self.by_tier.items()}

    def _distinct(self) -> list[Provider]:
        seen: dict[int, Provider] = {}
        for p in self.by_tier.values():
            seen.setdefault(id(p), p)
        return list(seen.values())

    def preflight(self, *, check_keys: bool = True) -> None:
        for p in self._distinct():
            p.preflight(check_keys=check_keys)

    def warm_up(self) -> None:
        for p in self._distinct():
            p.warm_up()


def real_provider(
    tiers: dict[Tier, TierConfig], settings: ProviderConfig, environ: dict[str, str] | None = None
) -> TieredProvider:
    env = dict(os.environ) if environ is None else environ
    http = {t: c for t, c in tiers.items() if carrier(c, settings) is Carrier.HTTP}
    rest = {t: c for t, c in tiers.items() if t not in http}
    by_tier: dict[Tier, Provider] = {}
    if http:
        hp = HttpProvider(http, settings, environ=env)
        by_tier.update(dict.fromkeys(http, hp))
    if rest:
        from .litellm_adapter import LiteLLMProvider  # cheap: litellm itself is imported on first use

        lp = LiteLLMProvider(rest, settings, environ=env)
        by_tier.update(dict.fromkeys(rest, lp))
    return TieredProvider({t: by_tier[t] for t in tiers})
