"""The judging layer: the repository's own tests and linters decide whether a patch is accepted.

- `validation`: the baseline, then the verdict on a patch (tests and lint, compared with it).
- `detect`: the test and lint commands a repository's files suggest; `tree_compare`: `review --run-tests`.
- `testresults`: per-test results and the rules of the verdict; `failure_output`: what a model
  is told about a failure; `tamper`: edits to what judges the patch.

May import: `tieragent.core` and `tieragent.repo`.
"""
