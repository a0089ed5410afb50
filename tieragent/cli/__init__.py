"""The top layer: the commands, their wiring to the real parts, and rendering (rich tables, JSON).

May import every layer. Nothing imports it but `tieragent.__main__` and the console script.
Importing it stays cheap (no litellm, no tree-sitter): each command imports what it needs.
"""

from .app import app, entry, main

__all__ = ["app", "entry", "main"]
