"""The model layer: what a flow asks of a model, and everything that happens around one call.

- `protocol`: `Provider.complete(ModelRequest) -> ModelReply`, `Usage`.
- `scripted`: `ScriptedProvider`, the test double (and `tieragent demo`'s models).
- `providers`: the real provider for a config, tier by tier: `http_provider` (OpenAI's,
  Anthropic's and Ollama's wire formats, in `wires`, over httpx, no litellm) or `litellm_adapter` (every other provider;
  the only module that imports litellm, lazily). `remote`: what the two share (retries, error
  kinds, key status, cache breakpoints); `model_map`: prices and windows from litellm's bundled map.
- `gateway`: the one door every flow's model calls go through: redact, budget, event, call,
  exactly one ledger row, and the step's declared policy when a tier is unavailable; every
  reply's text cleaned there (`sanitize`: no lone surrogates or control characters).
- `ledger`, `prices`, `budget`, `redact`: rows and totals, cost arithmetic, budget checks, masking.

May import: `tieragent.core` only.
"""
