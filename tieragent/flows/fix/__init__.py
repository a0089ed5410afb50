"""`tieragent fix`: the tiered patch flow. `run_fix(request, FixDeps, FixOptions) -> FixResult`.

Steps, each a function that returns a value: `baseline.take_baseline`, `classify.classify`,
`run.route`, `context.gather`, `repro.write_repro`, `attempt.make_attempt` (walked by
`ladder.walk_ladder`), and `finish.keep_patch` / `finish.save_best`. `session.FIX_POLICIES`
declares what each step does when its tier is unavailable.

May import: what `tieragent.flows` may import, and the shared `tieragent.flows.skeleton` / `replies` / `ledger_summary`.
"""

from .result import FixResult
from .run import run_fix
from .session import FIX_POLICIES, Confirm, FixDeps, FixOptions

__all__ = ["FIX_POLICIES", "Confirm", "FixDeps", "FixOptions", "FixResult", "run_fix"]
