"""Applying model-written patches: see issue 3."""
