"""The bottom layer: configuration, errors, the shared vocabulary, prompt files, path globs,
private (0600/0700) state files.

May import: the standard library and third-party packages only; nothing else from tieragent.
Every other layer may import it.
"""
