"""Which edit format a tier's model writes its patches in, and why, from the first call.

Three sources, in order, each able to overrule the one before:

1. a prior: `routing.edit_formats` patterns from the config, else the built-in table of model families
   below, else the rule for models the table does not know: a local model (Ollama, or any endpoint on
   a loopback address) or an unknown one starts with whole files where the files fit, since a small
   model copies a file more reliably than it writes a diff that applies;
2. whole files only where they fit: the request's files must be text files of at most 400 lines that
   fit the tier's output limit; otherwise the prior's fallback edit format;
3. what was learned (`edit_format: auto` only): the model's recent outcomes per format, in this
   repository when it has enough of them, else across repositories (the user-level record). A start
   format that mostly failed is left for the best other; a start at whole files gives way to an edit
   format this model has been shown to apply reliably, since whole files cost the most output.

An explicit `tiers.X.edit_format` (diff, search_replace, whole) overrules all of it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.vocab import EditFormat

AUTO_MIN_ATTEMPTS = 5  # fewer attempts than this in one format say nothing about a model
LOCAL_PROVIDERS = ("ollama/", "ollama_chat/", "lm_studio/", "llamafile/")


@dataclass(frozen=True)
class Family:
    """One row of the built-in table."""

    pattern: str  # a regular expression searched in the lower-cased model name
    name: str  # as reasons show it: "claude-sonnet-4 family"
    format: EditFormat
    fallback: EditFormat  # where whole files do not fit (for a `whole` family), the format to use instead
    hosted_only: bool  # weights not published: a loopback api_base is a proxy, not a local copy
    why: str  # our reason for the choice (documentation; tests check every row has one)


FAMILIES: tuple[Family, ...] = (
    Family(
        r"\bgpt-5",
        "gpt-5",
        "diff",
        "diff",
        True,
        "OpenAI trains its recent models on patch-style edits; a unified diff is the shortest reply, and our matcher "
        "forgives its usual slips (line numbers, counts, a lost header)",
    ),
    Family(
        r"\bgpt-4\.1-nano",
        "gpt-4.1-nano",
        "search_replace",
        "search_replace",
        True,
        "the smallest 4.1 model keeps diff line prefixes less reliably; copied text is easier for it",
    ),
    Family(r"\bgpt-4\.1", "gpt-4.1", "diff", "diff", True, "as gpt-5: trained on diff-style edits"),
    Family(
        r"\bgpt-4o-mini",
        "gpt-4o-mini",
        "search_replace",
        "search_replace",
        True,
        "a small model: copying the lines to change is easier than prefixing every line of a hunk",
    ),
    Family(r"\bgpt-4o", "gpt-4o", "diff", "diff", True, "strong enough that its diffs apply"),
    Family(
        r"(^|[/._-])o[134](-mini|-pro)?\b",
        "o-series",
        "diff",
        "diff",
        True,
        "reasoning models that plan the whole change first; a diff is their shortest answer",
    ),
    Family(
        r"claude-(sonnet|opus|haiku)-4|claude-(3-7|3\.7|3-5|3\.5)-(sonnet|haiku)|claude-4",
        "claude",
        "search_replace",
        "search_replace",
        True,
        "Anthropic's own editing tool replaces an exact string, the habit these models are trained on; "
        "SEARCH/REPLACE blocks ask for the same thing",
    ),
    Family(
        r"gemini-(2\.5|3)",
        "gemini",
        "search_replace",
        "search_replace",
        True,
        "often puts the path inside the fence or drops diff prefixes; the block reader takes the path in or "
        "before the fence",
    ),
    Family(
        r"deepseek-(chat|reasoner|v3|r1)",
        "deepseek",
        "search_replace",
        "search_replace",
        False,
        "large open-weight models that follow the block format well hosted; a local copy is usually a small "
        "distillation, treated as local",
    ),
    Family(
        r"qwen3-coder",
        "qwen3-coder",
        "search_replace",
        "search_replace",
        False,
        "a large coding model hosted; local copies are treated as local",
    ),
    Family(
        r"qwen2\.5-coder",
        "qwen2.5-coder",
        "whole",
        "search_replace",
        False,
        "measured here (BENCHMARKS.md): the 1.5B model's diffs mostly did not apply and whole files solved more; "
        "the larger sizes are not measured, so they start the same way until their own outcomes say otherwise",
    ),
)


@dataclass(frozen=True)
class Prior:
    """Where a model starts before anything is learned: a format, where whole files do not fit the
    fallback, and the reason."""

    format: EditFormat
    fallback: EditFormat
    why: str


def is_local(model: str, api_base: str | None) -> str | None:
    """Why the model runs locally ("ollama", "loopback api_base"), or None."""
    if model.lower().startswith(LOCAL_PROVIDERS):
        return model.split("/", 1)[0]
    if not api_base:
        return None
    host = urlsplit(api_base if "//" in api_base else f"//{api_base}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback api_base"
    try:
        return "loopback api_base" if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


SMALL_MAX_BILLIONS = 16.0  # a model whose name states at most this many parameters is small
_BILLIONS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)b\b")


def stated_size(model: str) -> float | None:
    """The parameter count a model's name states, in billions ("qwen2.5-coder:1.5b" -> 1.5), or None."""
    sizes = [float(m.group(1)) for m in _BILLIONS.finditer(model.lower())]
    return max(sizes) if sizes else None


def prior_format(model: str, api_base: str | None, patterns: Mapping[str, EditFormat]) -> Prior:
    """The start format from the config's patterns, the built-in table, or the small/local/unknown rule.
    Hosted-only families win even behind a loopback proxy; an open-weight family counts only where it is
    neither small (by its name) nor local, since a local copy is usually a small or quantized one."""
    name = model.lower()
    for pattern, fmt in patterns.items():
        if fnmatch.fnmatchcase(name, pattern.lower()):
            return Prior(fmt, "search_replace" if fmt == "whole" else fmt, f"routing.edit_formats: {pattern}")
    families = [fam for fam in FAMILIES if re.search(fam.pattern, name)]
    hosted = next((fam for fam in families if fam.hosted_only), None)
    if hosted is not None:
        return Prior(hosted.format, hosted.fallback, f"built-in table: {hosted.name} family")
    size = stated_size(name)
    if size is not None and size <= SMALL_MAX_BILLIONS:
        return Prior("whole", "search_replace", f"small model ({size:g}B parameters)")
    local = is_local(model, api_base)
    if local is not None:
        return Prior("whole", "search_replace", f"local model ({local})")
    if families:
        return Prior(families[0].format, families[0].fallback, f"built-in table: {families[0].name} family")
    return Prior("whole", "search_replace", "unknown model")


# ---------------------------------------------------------------- what was learned


@dataclass(frozen=True)
class FormatStats:
    """A model's recent attempts in one format: how many, and how many did not apply or parse."""

    attempts: int = 0
    failed: int = 0  # did not apply, could not be read, or (whole files) were cut off
    cut_off: int = 0  # of `failed`: replies cut off at the output limit

    @property
    def known(self) -> bool:
        return self.attempts >= AUTO_MIN_ATTEMPTS

    @property
    def bad(self) -> bool:
        """Mostly failed."""
        return self.known and self.failed * 2 > self.attempts

    @property
    def good(self) -> bool:
        """Four in five or more applied."""
        return self.known and self.failed * 5 <= self.attempts


@dataclass(frozen=True)
class Learned:
    """A model's recent outcomes per format, and where they come from ("here": this repository)."""

    model: str
    stats: Mapping[EditFormat, FormatStats]
    where: Mapping[EditFormat, str]  # "here" or "" (across repositories)

    def of(self, fmt: EditFormat) -> FormatStats:
        return self.stats.get(fmt, FormatStats())

    def says(self, fmt: EditFormat, verb: str) -> str:
        s, here = self.of(fmt), self.where.get(fmt) == "here"
        noun = {"diff": "diffs", "whole": "whole files", "search_replace": "search/replace edits"}[fmt]
        if verb == "failed" and s.cut_off * 2 > s.failed:
            verb = "were cut off at the output limit"
            count = s.cut_off
        else:
            count = s.failed if verb == "failed" else s.attempts - s.failed
            verb = "failed to apply" if verb == "failed" else "applied"
        return f"learned{' here' if here else ''}: {count} of {s.attempts} {noun} from {self.model} {verb}"


def merge_learned(
    model: str, here: Mapping[EditFormat, FormatStats], everywhere: Mapping[EditFormat, FormatStats]
) -> Learned:
    """This repository's record where it knows enough (it is the local override), else the user-level one."""
    stats: dict[EditFormat, FormatStats] = {}
    where: dict[EditFormat, str] = {}
    for fmt in set(here) | set(everywhere):
        local = here.get(fmt, FormatStats())
        use_here = local.known or not everywhere.get(fmt, FormatStats()).known
        stats[fmt] = local if use_here else everywhere[fmt]
        where[fmt] = "here" if use_here else ""
    return Learned(model, stats, where)


# ---------------------------------------------------------------- the choice


@dataclass(frozen=True)
class FormatChoice:
    format: EditFormat
    why: str
    fallback: EditFormat  # the edit format to use where whole files are not possible

    def shown(self) -> str:
        return f"{self.format}: {self.why}"


EDITS: tuple[EditFormat, ...] = ("diff", "search_replace")


def choose_format(configured: str, prior: Prior, learned: Learned | None, fits: bool) -> FormatChoice:
    """The format a tier starts with, and why. `fits`: the request's files can be written out whole
    within the tier's output limit."""
    if configured in EDITS:
        return FormatChoice(configured, f"edit_format: {configured}", configured)
    fallback = prior.fallback
    if configured == "whole":
        if fits:
            return FormatChoice("whole", "edit_format: whole", fallback)
        return FormatChoice(fallback, "edit_format: whole, but the files are too large to write out", fallback)
    start = FormatChoice(prior.format, prior.why, fallback)
    if prior.format == "whole" and not fits:
        start = FormatChoice(fallback, f"{prior.why}; the files are too large to write out whole", fallback)
    if learned is None:
        return start
    return _learn(start, learned, fits)


def _learn(start: FormatChoice, learned: Learned, fits: bool) -> FormatChoice:
    edits = (start.fallback, *(f for f in EDITS if f != start.fallback))
    if start.format == "whole":
        if learned.of("whole").bad:
            usable = [f for f in edits if not learned.of(f).bad]
            if usable:
                return FormatChoice(usable[0], learned.says("whole", "failed"), start.fallback)
        proven = [f for f in edits if learned.of(f).good]
        if proven:  # whole files cost the most output: an edit format this model applies reliably wins
            return FormatChoice(proven[0], learned.says(proven[0], "applied"), start.fallback)
        return start
    if not learned.of(start.format).bad:
        return start
    why = learned.says(start.format, "failed")
    if fits and not learned.of("whole").bad:
        return FormatChoice("whole", why, start.fallback)
    others = [f for f in edits if f != start.format and not learned.of(f).bad]
    return FormatChoice(others[0], why, start.fallback) if others else start
