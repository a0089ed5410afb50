"""The flows: what a command does, step by step, over the layers below.

- `fix/`: `tieragent fix` (baseline, classify, route, context, attempts, finish).
- `review/`: the place for `tieragent review`.
- `base`: what every flow shares (run ids, warnings kept for the result, signals held while
  restoring, the history line); `replies`: reading model replies leniently; `history`: the
  summary behind `tieragent ledger`.

A flow returns a result object and prints nothing: progress goes to an `on_event` callback.
May import: `tieragent.core`, `model`, `repo`, `judge`, `risk`, `routing`. Never `tieragent.cli`.
"""
