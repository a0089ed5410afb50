"""`tieragent review`: a tiered review of a diff. `run_review(DiffSource, ReviewDeps, ReviewOptions) -> ReviewResult`.

Steps: `diff.parse_diff`, `prefilter.prefilter` (no model), `assess.rule_reasons` and
`assess.triage` (small tier), then batches of hunks reviewed at the tier their risk calls for
(`reviewer.Reviewer`, which returns each batch's `BatchReview`), findings placed and merged
(`findings`), `--run-tests` judges, and the verdict from the typed causes (`run._verdict`).
`run.REVIEW_POLICIES` declares what each step does when its tier is unavailable.

May import: what `tieragent.flows` may import, and the shared `tieragent.flows.skeleton` / `replies`.
"""

from .model import Finding, ReviewResult, Severity
from .run import REVIEW_POLICIES, ReviewDeps, ReviewOptions, run_review

__all__ = ["REVIEW_POLICIES", "Finding", "ReviewDeps", "ReviewOptions", "ReviewResult", "Severity", "run_review"]
