"""The model layer: what a flow asks of a model, and everything that happens around one call.

- `protocol`: the `Provider` protocol (every method the gateway, the wiring and doctor call),
  `ModelRequest`, `ModelReply`, `Usage`, `KeyStatus`, `Carrier`.
- `scripted`: `ScriptedProvider`, the test double (and `tieragent demo`'s models).
- `providers`: the real provider for a config, tier by tier: `http_provider` (OpenAI's,
  Anthropic's and Ollama's wire formats over httpx, no litellm; one `Wire` per format in `wires/`)
  or `litellm_adapter` (every other provider; the only module that imports litellm, lazily).
  `remote`: what the two share (`RemoteProvider`: fields, retries, the key lookup; error kinds,
  cache breakpoints); `model_map`: prices and windows from litellm's bundled map.
- `gateway`: the one door every flow's model calls go through: redact, budget, event, call,
  exactly one ledger row, and the step's declared policy when a tier is unavailable; every
  reply's text cleaned there (`sanitize`: no lone surrogates or control characters).
- `ledger`, `prices`, `budget`, `redact`: rows and totals, cost arithmetic, budget checks, masking.

May import: `tieragent.core` only.
"""
