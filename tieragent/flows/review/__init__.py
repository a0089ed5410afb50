"""`tieragent review` will live here: a second flow over the same gateway, repository and judging layers.

May import: what `tieragent.flows` may import, and `tieragent.flows.base` / `replies`.
"""
