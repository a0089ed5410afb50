"""Routing and escalation as pure functions of data: no files, no models, no clocks.

May import: `tieragent.core` only.
"""
