"""Deterministic risk rules: sensitive paths, patch size, deleted code, changed public signatures.

Any rule saying high makes a task (or a hunk) high-risk, whatever a model said; each reason is kept.

May import: `tieragent.core` and `tieragent.repo`.
"""
