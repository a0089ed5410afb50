"""tieragent: a coding agent that sizes the model to the task.

Folders are layers; imports only go down (tests/test_layers.py enforces it):

    cli       commands, wiring of the real parts, rendering
    flows     fix/ (and review/): steps that return values, over the layers below
    routing   which tier does what: pure functions of data
    risk      deterministic risk rules
    judge     baseline, per-test verdicts, lint, failure output, the tamper guard
    repo      git workspace, journal, command runner, context, patching/, map/
    model     provider protocol, litellm adapter, gateway, ledger, prices, budget
    core      config, errors, vocabulary, prompts, globs, events

`model` and `repo` are side by side: neither imports the other.
"""

from .core.version import __version__

__all__ = ["__version__"]
