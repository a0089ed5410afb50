"""Whether a validated patch is verified by a stronger tier (`routing.verify`), as pure logic.

Only a tier above the patch's verifies it (so the frontier's own patches never are); `never` turns
verification off, `always` verifies every such patch, and `thin` only those whose tests say little
(`judge/evidence.py` says when).
"""

from __future__ import annotations

from ..core.vocab import TIERS, Tier, VerifyMode


def verify_applies(mode: VerifyMode, patch_tier: Tier, verify_tier: Tier) -> bool:
    """Whether a patch written at `patch_tier` may be verified at all (for `thin`: if its evidence is thin)."""
    return mode != "never" and TIERS.index(verify_tier) > TIERS.index(patch_tier)
