"""The built-in smoke suite's tasks: ten tiny libraries, each with a seeded bug, a visible failing
test (what tieragent validates with), a hidden check with more assertions, and scripted replies per
tier for `--scripted` runs.

The replies are chosen so the report has something to show: the small tier fixes the mechanical
bugs but not all of them (escalation), the mid tier needs its retry once and fails one task the
frontier fixes, and on `leap-year` the small and mid tiers write a patch that passes the visible test
but not the hidden check (a false accept) on the strength of one assertion: the verifier (`routing.verify`,
on by default) rejects it, and `cascade-noverify`, the cascade without verification, keeps it. Nobody fixes
`parse-duration`. With the scripted replies:

    task             class       cascade  frontier-only  mid-only  small-only  one-try  cascade-noverify
    median-even      local       ✓        ✓              ✓         ✗           ✓        ✓
    chunks           mechanical  ✓        ✓              ✓         ✓           ✓        ✓
    fahrenheit       mechanical  ✓        ✓              ✓         ✓           ✓        ✓
    leap-year        local       ✓ (esc)  ✓              !         !           ✓ (esc)  !
    slugify          mechanical  ✓ (esc)  ✓              ✓         ✗           ✓ (esc)  ✓ (esc)
    in-range         mechanical  ✓        ✓              ✓         ✓           ✓        ✓
    word-counts      local       ✓        ✓              ✓         ✗           ✓ (esc)  ✓
    round-price      local       ✓ (esc)  ✓              ✗         ✗           ✓ (esc)  ✓ (esc)
    normalize-name   mechanical  ✓ (esc)  ✓              ✓         ✗           ✓ (esc)  ✓ (esc)
    parse-duration   local       ✗        ✗              ✗         ✗           ✗        ✗
    solved                       9        9              7         3           9        8

The single-model policies are not verified (there is no stronger model in them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edit:
    """A reply that replaces `old` with `new` in the module (as a unified diff), with a sentence."""

    old: str
    new: str
    note: str = "Here is the fix:"


@dataclass(frozen=True)
class Garbled:
    """A reply whose diff names lines the module does not have: it cannot be applied."""

    old_line: str
    new_line: str
    note: str = "The fix:"


Reply = Edit | Garbled


@dataclass(frozen=True)
class SmokeTask:
    id: str
    task_class: str
    module: str
    source: str
    tests: str
    request: str
    check: str  # Python statements; the module is importable (the checkout is on PYTHONPATH)
    replies: dict[str, list[Reply]] = field(default_factory=dict)  # tier -> patch replies, in order
    verify_rejects: str = ""  # the verifier's reason to reject the cheaper tiers' patch ("": it accepts)

    @property
    def test_file(self) -> str:
        return f"test_{self.module}"


def _unit(module: str, function: str, body: str) -> str:
    """A visible unittest module for `function` of `module`."""
    return (
        f"import unittest\n\nfrom {module.removesuffix('.py')} import {function}\n\n\n"
        f"class {function.title().replace('_', '')}Test(unittest.TestCase):\n{body}"
    )


MEDIAN_FIX = Edit(
    "    return ordered[mid]\n",
    "    if len(ordered) % 2:\n        return ordered[mid]\n    return (ordered[mid - 1] + ordered[mid]) / 2\n",
    "For an even count, average the two middle values:",
)
LEAP_WRONG = Edit(
    "    return year % 4 == 0\n", "    return year % 4 == 0 and year % 100 != 0\n", "Century years are not leap years:"
)
LEAP_RIGHT = Edit(
    "    return year % 4 == 0\n",
    "    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n",
    "Century years are leap years only when divisible by 400:",
)
SLUG_RIGHT = Edit(
    '    return "-".join(words)\n', '    return "-".join(w.lower() for w in words)\n', "Lowercase the words:"
)
WORDS_WRONG = Edit(
    "        counts[word] += 1\n", "        counts[word] = counts.get(word, 1) + 1\n", "Use a default for new words:"
)
WORDS_RIGHT = Edit(
    "        counts[word] += 1\n", "        counts[word] = counts.get(word, 0) + 1\n", "Start new words at zero:"
)
ROUND_3 = Edit("    return round(amount, 2)\n", "    return round(amount, 3)\n", "Keep more precision:")
ROUND_INT = Edit(
    "    return round(amount, 2)\n", "    return int(amount * 100 + 0.5) / 100\n", "Round half up by hand:"
)
ROUND_RIGHT = Edit(
    '"""Prices in dollars and cents."""\n\n\ndef round_price(amount):\n'
    '    """Round a price to whole cents, halves rounded up (2.675 -> 2.68)."""\n    return round(amount, 2)\n',
    '"""Prices in dollars and cents."""\n\nfrom decimal import ROUND_HALF_UP, Decimal\n\n\ndef round_price(amount):\n'
    '    """Round a price to whole cents, halves rounded up (2.675 -> 2.68)."""\n'
    '    return float(Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))\n',
    "Binary floats cannot hold 2.675; round its decimal text half up:",
)
NAME_RIGHT = Edit(
    '    return " ".join(name.split(" "))\n',
    '    return " ".join(name.split())\n',
    "split() with no argument drops all runs of whitespace:",
)
DURATION_NO_RESET = Edit(
    "            total += int(number) * units[ch]\n",
    "            total += int(number or 0) * units[ch]\n",
    "Guard against a missing number:",
)
DURATION_GET = Edit(
    "            total += int(number) * units[ch]\n",
    "            total += int(number) * units.get(ch, 0)\n",
    "Ignore unknown units:",
)
DURATION_LOWER = Edit(
    "            total += int(number) * units[ch]\n",
    "            total += int(number) * units[ch.lower()]\n",
    "Accept upper-case units:",
)

SMOKE_TASKS: tuple[SmokeTask, ...] = (
    SmokeTask(
        "median-even",
        "local",
        "stats.py",
        '"""Small statistics helpers."""\n\n\ndef mean(values):\n'
        '    """Arithmetic mean of a non-empty sequence."""\n    return sum(values) / len(values)\n\n\n'
        'def median(values):\n    """Middle value; for an even count, the mean of the two middle values."""\n'
        "    ordered = sorted(values)\n"
        "    mid = len(ordered) // 2\n    return ordered[mid]\n",
        _unit(
            "stats.py",
            "median",
            "    def test_odd(self):\n        self.assertEqual(median([3, 1, 2]), 2)\n\n"
            "    def test_even(self):\n        self.assertEqual(median([4, 1, 3, 2]), 2.5)\n",
        ),
        "median() returns the wrong value for lists with an even number of items",
        "from stats import median\nassert median([1, 2, 3, 4, 5, 6]) == 3.5\nassert median([5]) == 5\n"
        "assert median([2, 1]) == 1.5\n",
        {
            "small": [Edit("    return ordered[mid]\n", "    return ordered[mid - 1]\n", "The index is one too high:")],
            "mid": [MEDIAN_FIX],
            "frontier": [MEDIAN_FIX],
        },
    ),
    SmokeTask(
        "chunks",
        "mechanical",
        "batching.py",
        'def chunks(items, size):\n    """Split items into lists of at most `size` items, in order."""\n'
        "    return [items[i:i + size] for i in range(0, len(items) - 1, size)]\n",
        _unit(
            "batching.py",
            "chunks",
            "    def test_last_chunk(self):\n        self.assertEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], "
            "[5]])\n",
        ),
        "chunks() drops the last item when the list does not divide evenly",
        "from batching import chunks\nassert chunks([], 3) == []\nassert chunks([1], 1) == [[1]]\n"
        "assert chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]\n",
        {
            t: [Edit("range(0, len(items) - 1, size)", "range(0, len(items), size)", "Off by one in the range:")]
            for t in ("small", "mid", "frontier")
        },
    ),
    SmokeTask(
        "fahrenheit",
        "mechanical",
        "temperature.py",
        'def to_fahrenheit(celsius):\n    """Degrees Fahrenheit for a temperature in degrees Celsius."""\n'
        "    return celsius * 9 / 5 - 32\n",
        _unit(
            "temperature.py",
            "to_fahrenheit",
            "    def test_boiling(self):\n        self.assertEqual(to_fahrenheit(100), 212)\n",
        ),
        "to_fahrenheit(100) gives 148 instead of 212",
        "from temperature import to_fahrenheit\nassert to_fahrenheit(0) == 32\nassert to_fahrenheit(-40) == -40\n"
        "assert abs(to_fahrenheit(37) - 98.6) < 1e-9\n",
        {
            t: [Edit("celsius * 9 / 5 - 32", "celsius * 9 / 5 + 32", "The offset has the wrong sign:")]
            for t in ("small", "mid", "frontier")
        },
    ),
    SmokeTask(
        "leap-year",
        "local",
        "dates.py",
        'def is_leap_year(year):\n    """True for leap years in the Gregorian calendar."""\n    return year % 4 == 0\n',
        _unit(
            "dates.py",
            "is_leap_year",
            "    def test_century(self):\n        self.assertFalse(is_leap_year(1900))\n",
        ),
        "is_leap_year(1900) returns True, but 1900 was not a leap year (century years are special)",
        "from dates import is_leap_year\nassert is_leap_year(2000)\nassert is_leap_year(2400)\n"
        "assert not is_leap_year(2100)\nassert not is_leap_year(1900)\n",
        {"small": [LEAP_WRONG], "mid": [LEAP_WRONG], "frontier": [LEAP_RIGHT]},
        verify_rejects="Years divisible by 400 are still leap years: 2000 would now be wrongly rejected.",
    ),
    SmokeTask(
        "slugify",
        "mechanical",
        "text.py",
        'import re\n\n\ndef slugify(title):\n    """A URL slug: lowercase words joined by hyphens, other '
        'characters dropped."""\n    words = re.findall(r"[A-Za-z0-9]+", title)\n    return "-".join(words)\n',
        _unit(
            "text.py",
            "slugify",
            '    def test_lowercase(self):\n        self.assertEqual(slugify("Hello World"), "hello-world")\n',
        ),
        'slugify("Hello World") should give "hello-world", lowercase',
        'from text import slugify\nassert slugify("  Tieragent: Fix IT! ") == "tieragent-fix-it"\n'
        'assert slugify("ABC 123") == "abc-123"\n',
        {
            "small": [
                Edit(
                    '    return "-".join(words)\n',
                    '    return "-".join(w.title() for w in words)\n',
                    "Normalize the case:",
                )
            ],
            "mid": [SLUG_RIGHT],
            "frontier": [SLUG_RIGHT],
        },
    ),
    SmokeTask(
        "in-range",
        "mechanical",
        "bounds.py",
        'def in_range(value, low, high):\n    """True when low <= value <= high (both bounds included)."""\n'
        "    return low <= value < high\n",
        _unit(
            "bounds.py", "in_range", "    def test_upper_bound(self):\n        self.assertTrue(in_range(10, 1, 10))\n"
        ),
        "in_range() excludes the upper bound, but the docstring says both bounds are included",
        "from bounds import in_range\nassert in_range(1, 1, 10)\nassert not in_range(11, 1, 10)\n"
        "assert not in_range(0, 1, 10)\nassert in_range(5, 5, 5)\n",
        {
            t: [Edit("low <= value < high", "low <= value <= high", "Include the upper bound:")]
            for t in ("small", "mid", "frontier")
        },
    ),
    SmokeTask(
        "word-counts",
        "local",
        "words.py",
        'def word_counts(text):\n    """How often each word occurs in text (case-insensitive)."""\n    counts = {}\n'
        "    for word in text.lower().split():\n        counts[word] += 1\n    return counts\n",
        _unit(
            "words.py",
            "word_counts",
            '    def test_counts(self):\n        self.assertEqual(word_counts("a b a"), {"a": 2, "b": 1})\n',
        ),
        "word_counts() raises KeyError on any text",
        'from words import word_counts\nassert word_counts("") == {}\n'
        'assert word_counts("The the THE") == {"the": 3}\n',
        {"small": [WORDS_WRONG], "mid": [WORDS_WRONG, WORDS_RIGHT], "frontier": [WORDS_RIGHT]},
    ),
    SmokeTask(
        "round-price",
        "local",
        "prices.py",
        '"""Prices in dollars and cents."""\n\n\ndef round_price(amount):\n'
        '    """Round a price to whole cents, halves rounded up (2.675 -> 2.68)."""\n'
        "    return round(amount, 2)\n",
        _unit(
            "prices.py",
            "round_price",
            "    def test_half_up(self):\n        self.assertEqual(round_price(2.675), 2.68)\n"
            "        self.assertEqual(round_price(1.005), 1.01)\n",
        ),
        "round_price(2.675) gives 2.67; halves must round up to 2.68",
        "from prices import round_price\nassert round_price(2.671) == 2.67\nassert round_price(0.125) == 0.13\n"
        "assert round_price(10) == 10.0\n",
        {"small": [ROUND_3], "mid": [ROUND_3, ROUND_INT], "frontier": [ROUND_RIGHT]},
    ),
    SmokeTask(
        "normalize-name",
        "mechanical",
        "names.py",
        'def normalize_name(name):\n    """A name without surrounding whitespace, with single spaces between its '
        'words."""\n    return " ".join(name.split(" "))\n',
        _unit(
            "names.py",
            "normalize_name",
            '    def test_spaces(self):\n        self.assertEqual(normalize_name("  Ada   Lovelace "), "Ada '
            'Lovelace")\n',
        ),
        "normalize_name() keeps the extra spaces around and between words",
        'from names import normalize_name\nassert normalize_name("Grace\\tHopper") == "Grace Hopper"\n'
        'assert normalize_name("") == ""\n',
        {
            "small": [Garbled("    return name.strip()", '    return " ".join(name.split())')],
            "mid": [NAME_RIGHT],
            "frontier": [NAME_RIGHT],
        },
    ),
    SmokeTask(
        "parse-duration",
        "local",
        "durations.py",
        "def parse_duration(text):\n    \"\"\"Seconds in a duration like '1h30m', '45s' or '2h'.\"\"\"\n"
        '    units = {"h": 3600, "m": 60, "s": 1}\n'
        '    total, number = 0, ""\n    for ch in text:\n        if ch.isdigit():\n            number += ch\n'
        "        else:\n"
        "            total += int(number) * units[ch]\n    return total\n",
        _unit(
            "durations.py",
            "parse_duration",
            '    def test_hours_and_minutes(self):\n        self.assertEqual(parse_duration("1h30m"), 5400)\n',
        ),
        'parse_duration("1h30m") returns far too many seconds',
        'from durations import parse_duration\nassert parse_duration("45s") == 45\n'
        'assert parse_duration("1h1m1s") == 3661\n',
        {"small": [DURATION_NO_RESET], "mid": [DURATION_NO_RESET, DURATION_GET], "frontier": [DURATION_LOWER]},
    ),
)
