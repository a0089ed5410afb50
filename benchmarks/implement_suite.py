"""Write a `tieragent bench` suite of twelve "implement this function so the tests pass" tasks.

    python benchmarks/implement_suite.py DIR        # then: tieragent bench --suite DIR/tasks ...

Each task is a tiny git repository with a stub (`raise NotImplementedError`) and a docstring saying
what the function must do, a visible test that tieragent validates with, and a hidden check with
more cases (outside the repository). Each task file also carries a scripted frontier reply (the
reference implementation as a diff), so a bench can pair a real cheap model with a scripted
frontier. The tasks were written for this benchmark; they are small on purpose: they measure
whether a cheap tier's edits land and pass, not how hard a problem it can solve.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

# id: (module, function stub signature and docstring, reference body, visible test, hidden check)
TASKS = {
    "palindrome": (
        "text.py",
        'def is_palindrome(s):\n    """True when s reads the same backwards, ignoring case and anything but '
        'letters and digits."""',
        "    kept = [c.lower() for c in s if c.isalnum()]\n    return kept == kept[::-1]",
        "assert is_palindrome('A man, a plan, a canal: Panama')\nassert not is_palindrome('abc')",
        "assert is_palindrome('')\nassert is_palindrome('No lemon, no melon')\nassert not is_palindrome('ab')",
    ),
    "fizzbuzz": (
        "game.py",
        'def fizzbuzz(n):\n    """The strings for 1..n: "Fizz" for multiples of 3, "Buzz" of 5, "FizzBuzz" of '
        'both, else the number."""',
        "    out = []\n    for i in range(1, n + 1):\n        out.append('FizzBuzz' if i % 15 == 0 else 'Fizz' if "
        "i % 3 == 0 else 'Buzz' if i % 5 == 0 else str(i))\n    return out",
        "assert fizzbuzz(5) == ['1', '2', 'Fizz', '4', 'Buzz']",
        "assert fizzbuzz(15)[-1] == 'FizzBuzz'\nassert fizzbuzz(0) == []",
    ),
    "flatten": (
        "lists.py",
        'def flatten(nested):\n    """All the non-list items of arbitrarily nested lists, in order."""',
        "    out = []\n    for item in nested:\n        out.extend(flatten(item) if isinstance(item, list) else "
        "[item])\n    return out",
        "assert flatten([1, [2, [3, 4]], 5]) == [1, 2, 3, 4, 5]",
        "assert flatten([]) == []\nassert flatten([[[]], ['a', ['b']]]) == ['a', 'b']",
    ),
    "roman": (
        "numerals.py",
        'def to_roman(n):\n    """The Roman numeral for 1 <= n <= 3999."""',
        "    parts = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'), (50, 'L'), (40, "
        "'XL'),\n             (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]\n    out = ''\n"
        "    for value, letters in parts:\n        while n >= value:\n            out += letters\n"
        "            n -= value\n    return out",
        "assert to_roman(1994) == 'MCMXCIV'",
        "assert to_roman(4) == 'IV'\nassert to_roman(3999) == 'MMMCMXCIX'\nassert to_roman(58) == 'LVIII'",
    ),
    "word-freq": (
        "words.py",
        'def word_freq(text):\n    """How often each word occurs, lower-cased; words are runs of letters."""',
        "    import re\n    counts = {}\n    for w in re.findall(r'[a-z]+', text.lower()):\n"
        "        counts[w] = counts.get(w, 0) + 1\n    return counts",
        "assert word_freq('the cat and the hat') == {'the': 2, 'cat': 1, 'and': 1, 'hat': 1}",
        "assert word_freq('') == {}\nassert word_freq('Go, go! GO.') == {'go': 3}",
    ),
    "merge-intervals": (
        "intervals.py",
        'def merge(intervals):\n    """Overlapping or touching (start, end) intervals merged, sorted by start."""',
        "    out = []\n    for start, end in sorted(intervals):\n        if out and start <= out[-1][1]:\n"
        "            out[-1] = (out[-1][0], max(out[-1][1], end))\n        else:\n"
        "            out.append((start, end))\n    return out",
        "assert merge([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]",
        "assert merge([]) == []\nassert merge([(5, 6), (1, 5)]) == [(1, 6)]",
    ),
    "binary-search": (
        "search.py",
        'def index_of(xs, x):\n    """The index of x in the sorted list xs, or -1 when it is not there."""',
        "    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n        if xs[mid] == x:\n"
        "            return mid\n        if xs[mid] < x:\n            lo = mid + 1\n        else:\n"
        "            hi = mid - 1\n    return -1",
        "assert index_of([1, 3, 5, 7], 5) == 2",
        "assert index_of([], 1) == -1\nassert index_of([1, 3], 2) == -1\nassert index_of([1, 3], 3) == 1",
    ),
    "caesar": (
        "cipher.py",
        'def caesar(text, shift):\n    """Letters shifted by `shift` places in the alphabet (case kept); anything '
        'else unchanged."""',
        "    out = []\n    for c in text:\n        if c.isalpha():\n"
        "            base = ord('A') if c.isupper() else ord('a')\n"
        "            out.append(chr((ord(c) - base + shift) % 26 + base))\n        else:\n"
        "            out.append(c)\n    return ''.join(out)",
        "assert caesar('abc', 1) == 'bcd'",
        "assert caesar('Hello, World!', 3) == 'Khoor, Zruog!'\nassert caesar('xyz', 3) == 'abc'\n"
        "assert caesar('abc', -1) == 'zab'",
    ),
    "rle": (
        "rle.py",
        'def encode(s):\n    """Run-length encoding: "aaabcc" -> "3a1b2c"."""',
        "    out, i = [], 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n"
        "            j += 1\n        out.append(f'{j - i}{s[i]}')\n        i = j\n    return ''.join(out)",
        "assert encode('aaabcc') == '3a1b2c'",
        "assert encode('') == ''\nassert encode('a') == '1a'\nassert encode('abab') == '1a1b1a1b'",
    ),
    "lcm": (
        "arith.py",
        'def lcm(a, b):\n    """The least common multiple of two positive integers."""',
        "    x, y = a, b\n    while y:\n        x, y = y, x % y\n    return a * b // x",
        "assert lcm(4, 6) == 12",
        "assert lcm(7, 3) == 21\nassert lcm(5, 5) == 5\nassert lcm(1, 9) == 9",
    ),
    "transpose": (
        "matrix.py",
        'def transpose(rows):\n    """The transpose of a rectangular matrix given as a list of rows."""',
        "    return [list(col) for col in zip(*rows)]",
        "assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]",
        "assert transpose([]) == []\nassert transpose([[1]]) == [[1]]",
    ),
    "anagrams": (
        "groups.py",
        'def group_anagrams(words):\n    """Words grouped by their sorted letters: a list of groups, each in input '
        'order, groups in order of first word."""',
        "    groups = {}\n    for w in words:\n        groups.setdefault(''.join(sorted(w)), []).append(w)\n"
        "    return list(groups.values())",
        "assert group_anagrams(['eat', 'tea', 'tan', 'ate', 'nat']) == [['eat', 'tea', 'ate'], ['tan', 'nat']]",
        "assert group_anagrams([]) == []\nassert group_anagrams(['a', 'b', 'a']) == [['a', 'a'], ['b']]",
    ),
}


def _git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
    return subprocess.run(["git", *env_args, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def write_suite(dest: Path, python: str = sys.executable) -> Path:
    tasks_dir, checks_dir = dest / "tasks", dest / "checks"
    tasks_dir.mkdir(parents=True, exist_ok=True)
    checks_dir.mkdir(parents=True, exist_ok=True)
    for task_id, (module, stub, body, visible, hidden) in TASKS.items():
        name = stub.split("(")[0].split()[-1]
        stub_src = f"{stub}\n    raise NotImplementedError\n"
        solved_src = f"{stub}\n{body}\n"
        repo = dest / "repos" / task_id
        (repo / "tests").mkdir(parents=True, exist_ok=True)
        (repo / module).write_text(stub_src)
        test_lines = "\n".join("        " + line for line in visible.splitlines())
        (repo / "tests" / f"test_{module}").write_text(
            f"import unittest\n\nfrom {module[:-3]} import {name}\n\n\nclass Test(unittest.TestCase):\n"
            f"    def test_{name}(self):\n{test_lines}\n"
        )
        (repo / "tests" / "__init__.py").write_text("")
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"{name}: a stub and its test")
        sha = _git(repo, "rev-parse", "HEAD").strip()
        check = checks_dir / f"{task_id}.py"
        check.write_text(
            f"import sys\nsys.path.insert(0, '.')\nfrom {module[:-3]} import {name}\n{visible}\n{hidden}\nprint('ok')\n"
        )
        diff = "".join(
            difflib.unified_diff(
                stub_src.splitlines(keepends=True), solved_src.splitlines(keepends=True), f"a/{module}", f"b/{module}"
            )
        )
        classify = {
            "task_class": "local",
            "risk": "low",
            "files": [module, f"tests/test_{module}"],
            "reason": "a function to implement",
        }
        doc = {
            "repo": f"../repos/{task_id}",
            "commit": sha,
            "request": f"Implement {name}() in {module} as its docstring says, so that the tests pass.",
            "check": f"{shlex.quote(python)} {{task_dir}}/../checks/{task_id}.py",
            "test": f"{shlex.quote(python)} -m unittest -q",
            "scripted": {
                "classify": json.dumps(classify),
                "patch": {"frontier": [f"Implemented.\n\n```diff\n{diff}```\n"]},
            },
        }
        (tasks_dir / f"{task_id}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=200))
    return tasks_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", type=Path)
    print(write_suite(ap.parse_args().dest))


if __name__ == "__main__":
    main()
