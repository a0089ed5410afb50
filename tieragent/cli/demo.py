"""`tieragent demo`: the real pipeline on a throwaway repository, with scripted model replies.

Real: the git repository, its unittest suite run as a subprocess, patch application, validation,
escalation, the journal, the commit and the ledger. Scripted: only what the models answer. The
mid tier's two patches apply but fail the tests; the frontier's passes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..core.config import Config, Price, TierConfig
from ..core.events import Event
from ..core.vocab import Tier
from ..flows.fix import FixDeps, FixOptions, FixResult, run_fix
from ..model.protocol import Models
from ..model.scripted import ScriptedProvider
from ..repo.runner import SubprocessRunner
from ..repo.workspace import GitWorkspace
from .wiring import repo_map_factory

REQUEST = "median() returns the wrong value for lists with an even number of items"

STATS_PY = '''\
"""Small statistics helpers."""


def mean(values):
    """Arithmetic mean of a non-empty sequence."""
    return sum(values) / len(values)


def median(values):
    """Middle value; for an even count, the mean of the two middle values."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid]
'''

TEST_STATS_PY = """\
import unittest

from stats import mean, median


class StatsTest(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(mean([1, 2, 3, 4]), 2.5)

    def test_median_odd(self):
        self.assertEqual(median([3, 1, 2]), 2)

    def test_median_even(self):
        self.assertEqual(median([4, 1, 3, 2]), 2.5)


if __name__ == "__main__":
    unittest.main()
"""

CLASSIFY = """```json
{"task_class": "local", "risk": "low", "files": ["stats.py", "test_stats.py"],
 "reason": "A one-function bug in stats.median for even-length input."}
```"""

# The mid and frontier tiers are Claude models: the built-in table has them answer in SEARCH/REPLACE blocks.
MID_FIRST = """The middle index is off by one for even lengths:

stats.py
```python
<<<<<<< SEARCH
    mid = len(ordered) // 2
    return ordered[mid]
=======
    mid = len(ordered) // 2
    return ordered[mid - 1]
>>>>>>> REPLACE
```"""

MID_SECOND = """Average the middle pair for even lengths:

stats.py
```python
<<<<<<< SEARCH
    mid = len(ordered) // 2
    return ordered[mid]
=======
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid] + ordered[mid + 1]) / 2
>>>>>>> REPLACE
```"""

FRONTIER = """For an even count the two middle items are at mid - 1 and mid:

stats.py
```python
<<<<<<< SEARCH
    mid = len(ordered) // 2
    return ordered[mid]
=======
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
>>>>>>> REPLACE
```"""

COMMIT_MESSAGE = """Fix median() for even-length input

Average the two middle values instead of returning the upper one."""

# Public list prices (USD per million tokens) of the models the demo names, so the ledger shows
# what such a run would cost; token counts are estimated from the scripted text.
DEMO_TIERS: dict[Tier, TierConfig] = {
    "small": TierConfig(model="openai/gpt-5-nano", price=Price(input_per_mtok=0.05, output_per_mtok=0.40)),
    "mid": TierConfig(model="anthropic/claude-sonnet-4-5", price=Price(input_per_mtok=3.0, output_per_mtok=15.0)),
    "frontier": TierConfig(model="anthropic/claude-opus-4-5", price=Price(input_per_mtok=5.0, output_per_mtok=25.0)),
}


def make_demo_repo(parent: Path | None = None) -> Path:
    repo = Path(tempfile.mkdtemp(prefix="tieragent-demo-", dir=parent))
    (repo / "stats.py").write_text(STATS_PY)
    (repo / "test_stats.py").write_text(TEST_STATS_PY)
    (repo / "README.md").write_text("A throwaway repository made by `tieragent demo`.\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.name", "tieragent demo")
    git("config", "user.email", "demo@tieragent.invalid")
    git("config", "commit.gpgsign", "false")
    git("add", "-A")
    git("commit", "-q", "-m", "Statistics helpers with a median bug")
    return repo


def run_demo(on_event: Callable[[Event], None], parent: Path | None = None) -> tuple[FixResult, Path]:
    repo = make_demo_repo(parent)
    ws = GitWorkspace.open(repo)
    cfg = Config.model_validate({"tiers": {t: c.model_dump() for t, c in DEMO_TIERS.items()}})
    provider = ScriptedProvider(
        DEMO_TIERS,
        script={
            ("classify", "small"): [CLASSIFY],
            ("patch", "mid"): [MID_FIRST, MID_SECOND],
            ("patch", "frontier"): [FRONTIER],
            ("commit-message", "small"): [COMMIT_MESSAGE],
        },
    )
    deps = FixDeps(
        ws=ws,
        config=cfg,
        runner=SubprocessRunner(),
        models=lambda: Models(provider, {t: c.price for t, c in DEMO_TIERS.items()}, {}),
        repo_map=repo_map_factory(ws),
        test_command=f'"{sys.executable}" -m unittest -q',
        on_event=on_event,
    )
    return run_fix(REQUEST, deps, FixOptions(commit=True)), repo
