"""The one way a command reports an error the user can act on: a message (and hint) with its exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from ..core.errors import TieragentError


def report_error(err: TieragentError, as_json: bool, fields: Mapping[str, Any] | None = None) -> int:
    """Print `err` for a person on stderr, or as the one JSON object on stdout (with the command's own
    `fields`, e.g. fix's `request`); return its exit code."""
    if as_json:  # the document for programs, and the message for the person reading the log
        payload = {"status": "error", "exit_code": int(err.exit_code), **(fields or {}), "error": str(err)}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        sys.stdout.flush()
    sys.stderr.write(f"tieragent: error: {err.message}\n")
    if err.hint:
        sys.stderr.write(err.hint + "\n")
    return int(err.exit_code)
