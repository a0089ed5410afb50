"""The flows: what a command does, step by step, over the layers below.

- `fix/`: `tieragent fix` (baseline, classify, route, context, attempts, finish).
- `review/`: `tieragent review` (prefilter, triage, batches reviewed per tier, verdict).
- `bench/`: `tieragent bench` (tasks, policies, runs of `tieragent fix` as subprocesses, report).
- `chat/`: `tieragent chat` (a session of messages: requests through the fix flow, handed in by the CLI;
  /ask, /undo, /commit and the other commands; sessions saved under `.git/tieragent/sessions/`).
- `skeleton`: the run skeleton every flow shares (the result's common fields and ending, the stop
  causes, the redactor, ledger and gateway, the history line); `replies`: reading model replies
  leniently; `ledger_summary`: the summary behind `tieragent ledger`.

Flows import the shared modules here, never each other (the layer test checks it).

A flow returns a result object and prints nothing: progress goes to an `on_event` callback.
May import: `tieragent.core`, `model`, `repo`, `judge`, `risk`, `routing`. Never `tieragent.cli`.
"""
