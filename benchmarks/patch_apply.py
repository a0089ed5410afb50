"""Benchmark the patch applier (issue 3): a 200-hunk reply against a 20,000-line file, and the corpus.

    /work/venv/bin/python benchmarks/patch_apply.py [--hunks 200] [--lines 20000] [--repeat 3]

Prints hunks per second and wall time for three replies built from one set of edits:
  clean     difflib's diff as it is (exact matches);
  damaged   line numbers replaced by `@@ @@`, wrong counts, hunks in reverse order, and one
            context line left out of every fourth hunk (fuzzy matches);
  shifted   every hunk line indented by four more spaces (loose matches, re-indented);
then the corpus pass rate. Target: the clean 200-hunk reply in under 1 s on a 2-core machine.
This is a script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
import time
from pathlib import Path

from tieragent.repo.patching import PatchError, plan_patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "patching"))  # patch_corpus


def build_file(n_lines: int) -> list[str]:
    """Valid Python of about n_lines lines: small functions, every non-blank line unique."""
    lines: list[str] = ['"""Generated module for the patch benchmark."""', ""]
    k = 0
    while len(lines) < n_lines:
        lines += [
            "",
            f"def func_{k}(value):",
            f'    """Return value adjusted by {k}."""',
            f"    offset_{k} = {k} * 3",
            f"    if value > {k}:",
            f"        return value - offset_{k}",
            f"    return value + offset_{k}",
        ]
        k += 1
    return lines[:n_lines] if lines[n_lines - 1].strip() else [*lines[: n_lines - 1], "# end"]


def edit(lines: list[str], n_hunks: int) -> list[str]:
    """A copy with n_hunks separate changes, spread evenly, each far enough from the next."""
    new = list(lines)
    targets = [i for i, line in enumerate(lines) if line.startswith("        return value - ")]
    step = max(1, len(targets) // n_hunks)
    chosen = targets[::step][:n_hunks]
    for i in reversed(chosen):
        new[i] = new[i].replace("value - ", "value - 1 - ")
        new.insert(i + 1, f"        # adjusted at line {i + 1}")
    return new


def hunks_of(old: list[str], new: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for line in list(difflib.unified_diff(old, new, "a/big.py", "b/big.py", n=3, lineterm=""))[2:]:
        if line.startswith("@@"):
            out.append([line])
        else:
            out[-1].append(line)
    return out


def damage(hunks: list[list[str]]) -> list[list[str]]:
    out = []
    for n, h in enumerate(hunks):
        body = h[1:]
        if n % 4 == 0:
            # leave out a context line at the top of the hunk that is not next to a change
            for k in range(1, len(body) - 1):
                if (
                    body[k].startswith(" ")
                    and body[k - 1].startswith(" ")
                    and body[k + 1].startswith(" ")
                    and body[k].strip()
                ):
                    body = body[:k] + body[k + 1 :]
                    break
        out.append(["@@ -1,99 +1,99 @@" if n % 2 else "@@ @@", *body])
    return list(reversed(out))


def shift(hunks: list[list[str]]) -> list[list[str]]:
    return [[h[0]] + [x[0] + "    " + x[1:] if x[1:].strip() else x for x in h[1:]] for h in hunks]


def reply_for(hunks: list[list[str]]) -> str:
    body = "\n".join(line for h in hunks for line in h)
    return f"Here are the changes.\n\n```diff\n--- a/big.py\n+++ b/big.py\n{body}\n```\n"


def timed(reply: str, root: Path, expected: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        changes = plan_patch(reply, root)
        best = min(best, time.perf_counter() - t0)
        assert len(changes) == 1 and changes[0].new_content == expected, "wrong result"
    return best


def corpus() -> tuple[int, int, list[str]]:
    from patch_corpus import cases, check

    failed = []
    all_cases = cases()
    with tempfile.TemporaryDirectory() as tmp:
        for case in all_cases:
            work = Path(tmp) / case.name
            work.mkdir()
            problem = check(case, work)
            if problem is not None:
                failed.append(f"{case.name}: {problem.splitlines()[0]}")
    return len(all_cases) - len(failed), len(all_cases), failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hunks", type=int, default=200)
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    old = build_file(args.lines)
    new = edit(old, args.hunks)
    hunks = hunks_of(old, new)
    expected = ("\n".join(new) + "\n").encode()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "big.py").write_text("\n".join(old) + "\n")
        print(f"file: {len(old)} lines; reply: {len(hunks)} hunks (best of {args.repeat})")
        for name, variant in (("clean", hunks), ("damaged", damage(hunks)), ("shifted", shift(hunks))):
            try:
                secs = timed(reply_for(variant), root, expected, args.repeat)
            except (AssertionError, PatchError) as e:  # a wrong result or a refusal is a failed benchmark
                print(f"  {name:8} FAILED: {type(e).__name__}: {str(e)[:200]}")
                ok = False
                continue
            print(f"  {name:8} {len(variant) / secs:9.0f} hunks/s   {secs:.3f} s wall")
    passed, total, failed = corpus()
    print(f"corpus: {passed}/{total} cases pass ({100 * passed / max(total, 1):.1f}%)")
    for f in failed:
        print(f"  FAIL {f}")
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
