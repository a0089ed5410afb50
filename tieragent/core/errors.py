"""Exit codes and the errors that map to them.

Every failure a user can cause or meet (bad config, no repository, a provider that is down)
is one of these, written for the user, so the CLI can print it and exit with a documented
code instead of a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    FIXED = 0
    NOT_FIXED = 1  # no attempt validated
    USAGE = 2  # usage, config or environment error
    BUDGET = 3  # budget exceeded
    PROVIDER = 4  # provider error after retries (auth, unreachable, ...)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM


class TieragentError(Exception):
    """An error with a message meant for the user and the exit code it implies."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(TieragentError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A config value is wrong: names the source file, the dotted key and the reason."""

    def __init__(self, source: str, key: str, reason: str, *, hint: str | None = None):
        self.source, self.key, self.reason = source, key, reason
        super().__init__(f"{source}: {key}: {reason}", hint=hint)


class EnvironmentProblem(UsageError):
    """Not a git repository, no test command, a missing API key variable..."""


class BudgetExceeded(TieragentError):
    exit_code = ExitCode.BUDGET


class ProviderError(TieragentError):
    """A model call failed for a reason on the provider's side or in its credentials.

    ``kind`` is one of: auth, not_found, unreachable, timeout, rate_limit, bad_request, server,
    context_window, unknown. ``retryable`` says whether trying the same call again could help;
    ``retry_after`` is the wait the provider asked for (a 429's Retry-After), in seconds.
    """

    exit_code = ExitCode.PROVIDER

    def __init__(
        self, kind: str, message: str, *, retryable: bool, hint: str | None = None, retry_after: float | None = None
    ):
        super().__init__(message, hint=hint)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after


class RunTimeout(KeyboardInterrupt):
    """The run's --timeout passed. A KeyboardInterrupt, so no `except Exception` on the way can swallow
    it and the tree is restored as for Ctrl-C; reported as a budget stop (exit 3)."""
