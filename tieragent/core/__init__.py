"""The bottom layer: configuration, errors, the shared vocabulary, prompt files, path globs.

May import: the standard library and third-party packages only; nothing else from tieragent.
Every other layer may import it.
"""
