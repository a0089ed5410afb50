"""Keep credentials out of everything sent to a model, and out of what tieragent prints and keeps.

Masked: the values of environment variables whose names say they hold a key, token, secret or
password; and credential shapes wherever they appear (file contents, test output, diffs):
provider and vendor key prefixes, private-key blocks, JWTs, passwords in URLs
(`postgres://user:PASSWORD@host`), and long random-looking strings assigned to names like KEY,
TOKEN, SECRET or PASSWORD.

Masking is stable within a run: the same secret always becomes the same placeholder, so a
model's patch that copies a masked line still lines up with the file, and `unmask` puts the
real value back before anything is written to disk. Placeholders look like identifiers
(`TIERAGENT_SECRET_3`), which models copy verbatim.

Hand-written patterns rather than a detector library (detect-secrets, for one): we need
replacement with stable placeholders and a reverse mapping, not a scan report, and the shapes
that matter for model prompts are few and well known.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
MIN_SECRET_LEN = 8  # shorter env values are too likely to be ordinary words
PLACEHOLDER = "TIERAGENT_SECRET_{}"
_PLACEHOLDER_RE = re.compile(r"TIERAGENT_SECRET_(\d+)")
AT_REST = "TIERAGENT_SECRET"  # what every placeholder becomes in a file kept between runs

# Credential shapes, most specific first, each after the text every match of it contains: a substring search
# rules a shape out of most texts at a small fraction of a regex pass (26 passes: masking 4 KB took 2.8 ms, now 0.7).
SHAPES: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (
        ("PRIVATE KEY-----",),
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----", re.DOTALL),
    ),
    (("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    (("sk-",), re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    (("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    (("xox",), re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    (("eyJ",), re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # vendors' prefixed keys: Stripe (secret, restricted, webhook), GitLab, Hugging Face, npm, PyPI,
    # SendGrid, Twilio API keys, Google OAuth client secrets, Groq, xAI, Replicate, Perplexity,
    # DigitalOcean, Shopify, Databricks; and Slack webhook URLs
    (("_live_", "_test_"), re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    (("whsec_",), re.compile(r"\bwhsec_[A-Za-z0-9+/=]{20,}")),
    (("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    (("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    (("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    (("pypi-",), re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}")),
    (("SG.",), re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{20,}")),
    (("SK",), re.compile(r"\bSK[0-9a-f]{32}\b")),
    (("GOCSPX-",), re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]{20,}")),
    (("gsk_",), re.compile(r"\bgsk_[A-Za-z0-9]{40,}")),
    (("xai-",), re.compile(r"\bxai-[A-Za-z0-9]{40,}")),
    (("r8_",), re.compile(r"\br8_[A-Za-z0-9]{30,}")),
    (("pplx-",), re.compile(r"\bpplx-[A-Za-z0-9]{40,}")),
    (("_v1_",), re.compile(r"\bdo[por]_v1_[a-f0-9]{64}\b")),
    (("shp",), re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")),
    (("dapi",), re.compile(r"\bdapi[a-f0-9]{32}\b")),
    (("hooks.slack.com/services/",), re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}")),
)
# the password of user:password@host in a URL (database, broker and proxy URLs); templates such as
# ${DB_PASSWORD} or {password} are left alone
URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]*:(?P<password>[^\s@/'\"${}<>%]{3,})@")
# NAME = "value" / NAME: value / "name": "value", where NAME says secret and the value looks random
ASSIGNED = re.compile(
    r"""(?ix)
    (?<![A-Za-z0-9_.\-])  # a name starts here, not inside one: the same matches, five times faster on long logs
    (?P<name>[A-Za-z0-9_.\-]*(?:key|token|secret|password|passwd|pwd|credential)[A-Za-z0-9_]*)
    (?P<sep>["']?\s*[:=]>?\s*)
    (?P<q>["']?)
    (?P<value>[^\s"'`,;)}\]]{16,})
    (?P=q)
    """
)
MIN_ENTROPY = 3.0  # bits per character; English words and paths score lower than keys


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def _random_looking(value: str, quoted: bool) -> bool:
    """A key, not a URL, a path, or (unquoted) a dotted name in code."""
    if "://" in value or value.startswith(("/", "./", "~")) or _PLACEHOLDER_RE.fullmatch(value):
        return False
    if (
        not quoted
        and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?", value)
        and not re.search(r"\d{3}", value)
    ):
        return False  # settings.SECRET_KEY_FROM_ENV, os.environ.get: code, not a value
    kinds = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return kinds >= 2 and _entropy(value) >= MIN_ENTROPY


class Redactor:
    """Masks secrets with stable placeholders, and unmasks a model's reply before it is written to disk."""

    def __init__(self, known: tuple[str, ...] = ()):
        self._by_secret: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self.known = tuple(sorted({k for k in known if len(k) >= MIN_SECRET_LEN}, key=len, reverse=True))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, extra_names: tuple[str, ...] = ()) -> Redactor:
        """Values of variables named like secrets (and of `extra_names`, e.g. every tier's api_key_env)."""
        env = os.environ if environ is None else environ
        return cls(tuple(v for k, v in env.items() if SECRET_NAME.search(k) or k in extra_names))

    def _placeholder(self, secret: str) -> str:
        if secret not in self._by_secret:
            p = PLACEHOLDER.format(len(self._by_secret) + 1)
            self._by_secret[secret], self._by_placeholder[p] = p, secret
        return self._by_secret[secret]

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced by its placeholder."""
        if not text:
            return text
        for v in self.known:
            if v in text:
                text = text.replace(v, self._placeholder(v))
        for needles, shape in SHAPES:
            if any(n in text for n in needles):
                text = shape.sub(lambda m: self._placeholder(m.group(0)), text)
        text = URL_PASSWORD.sub(
            lambda m: (
                m.group(0).replace(m.group("password"), self._placeholder(m.group("password")), 1)
                if not _PLACEHOLDER_RE.fullmatch(m.group("password"))
                else m.group(0)
            ),
            text,
        )

        def assigned(m: re.Match[str]) -> str:
            value = m.group("value")
            if not _random_looking(value, bool(m.group("q"))):
                return m.group(0)
            return m.group(0).replace(value, self._placeholder(value), 1)

        return ASSIGNED.sub(assigned, text)

    def at_rest(self, text: str) -> str:
        """`text` masked for a file kept between runs (the baseline): every placeholder is the same word,
        because their numbers differ from run to run, and a kept file is compared with the next run's output."""
        return _PLACEHOLDER_RE.sub(AT_REST, self(text))

    def unmask(self, text: str) -> str:
        """Placeholders back to the secrets they stand for (only those this redactor made)."""
        return (
            _PLACEHOLDER_RE.sub(lambda m: self._by_placeholder.get(m.group(0), m.group(0)), text)
            if self._by_placeholder
            else text
        )

    def mask_json(self, obj: Any) -> Any:
        """Every string in a JSON-ready structure masked (for --json, the history line, SARIF, ...)."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, dict):
            return {k: self.mask_json(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.mask_json(v) for v in obj]
        return obj


class MaskedDocument:
    """A result whose `to_json()` is its `_document()` with every secret the run's redactor knows masked
    (the --json output, the history line): mixed into the flows' result types."""

    redactor: Redactor | None

    def _document(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        document = self._document()
        return self.redactor.mask_json(document) if self.redactor else document
