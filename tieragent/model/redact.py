"""Keep credentials out of everything sent to a model.

Test output can print the environment; the values of variables whose names say they hold a
key, token, secret or password are replaced before any prompt leaves the machine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
MIN_SECRET_LEN = 8  # shorter values are too likely to be ordinary words


@dataclass(frozen=True)
class Redactor:
    values: tuple[str, ...]

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "Redactor":
        env = os.environ if environ is None else environ
        vals = {v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LEN}
        return cls(tuple(sorted(vals, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for v in self.values:
            if v in text:
                text = text.replace(v, "[redacted]")
        return text
