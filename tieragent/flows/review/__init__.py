"""`tieragent review`: a tiered review of a diff. `run_review(DiffSource, ReviewDeps, ReviewOptions) -> ReviewResult`.

Steps: `diff.parse_diff`, `prefilter.prefilter` (no model), `assess.rule_reasons` and
`assess.triage` (small tier), then each hunk reviewed at the tier its risk calls for
(`run.run_review`), findings placed and merged (`findings`), and `--run-tests` judges.
`run.REVIEW_POLICIES` declares what each step does when its tier is unavailable.

May import: what `tieragent.flows` may import, and `tieragent.flows.base` / `replies`.
"""

from .model import Finding, ReviewResult, Severity
from .run import REVIEW_POLICIES, ReviewDeps, ReviewOptions, run_review

__all__ = ["REVIEW_POLICIES", "Finding", "ReviewDeps", "ReviewOptions", "ReviewResult", "Severity", "run_review"]
