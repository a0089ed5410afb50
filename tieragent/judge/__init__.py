"""The judging layer: the repository's own tests and linters decide whether a patch is accepted.

- `validation`: the baseline, then the verdict on a patch (tests and lint, compared with it).
- `detect`: the test and lint commands a repository's files suggest; `tree_compare`: `review --run-tests`.
- `testresults`: per-test results and the rules of the verdict; `failure_output`: what a model
  is told about a failure; `tamper`: edits to what judges the patch.
- `runners`: which test runner a command runs and how its per-test results are had (`adapters`,
  one per runner); `reports`, `streams`, `textreports`: the parsers of their reports and output;
  `lint`: lint problems from JSON and text output; `repro_files`: where a --repro test goes.

May import: `tieragent.core` and `tieragent.repo`.
"""
