"""A fix run in its own process, for tests that kill -9 it at a chosen phase.

    python kill_driver.py REPO PHASE MARKER

PHASE: baseline (while the baseline tests run), validation (the patch is applied and its tests
run), commit (the patch validated, the commit message being written). The driver touches MARKER
when it reaches the phase, then waits there to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import CLASSIFY_OPS, GOOD_PATCH
from flowkit import TEST_RUN_ENV, fix, scripted

from tieragent.repo.runner import SubprocessRunner

repo, phase, marker = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])


def wait_here() -> None:
    marker.write_text(phase)
    time.sleep(120)


class PhaseRunner(SubprocessRunner):
    def __init__(self) -> None:
        super().__init__(TEST_RUN_ENV)
        self.runs = 0

    def run(self, command, cwd, timeout_s):
        self.runs += 1
        if (phase, self.runs) in (("baseline", 1), ("validation", 2)):
            wait_here()
        return super().run(command, cwd, timeout_s)


def commit_message(request):
    wait_here()
    return "never"


provider = scripted({("classify", "small"): [CLASSIFY_OPS], ("patch", "mid"): [GOOD_PATCH]})
provider.responder = commit_message  # only the commit-message step is unscripted
fix(repo, provider, runner=PhaseRunner(), commit=True)
