"""Running the repository's own commands (tests, linters) with a timeout.

Each command runs in its own process group, so a timeout or a Ctrl-C stops it and everything
it started. Python bytecode and pytest's cache are kept out of the user's tree.

These commands run code a model wrote (the patch, a --repro test), so they never see the
provider keys: every tier's `api_key_env`, the providers' usual key variables and litellm's
own are removed from their environment, unless `validate.env_passthrough` names them. With
`validate.network: off` they also run without network where Linux allows it (a new network
namespace through `unshare`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

MAX_OUTPUT_BYTES = 2_000_000  # keep the head and the tail of enormous logs


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None when it timed out
    output: str  # stdout and stderr, interleaved
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class CommandRunner(Protocol):
    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult: ...


def kill_group(proc: subprocess.Popen, grace_s: float = 2.0) -> None:
    """SIGTERM to the process's whole group, then SIGKILL after `grace_s`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_or_stop(proc: subprocess.Popen, timeout_s: float | None, *, grace_s: float = 1.0) -> tuple[bytes, bool]:
    """(output, timed out) of a process started in its own session; on a timeout, or Ctrl-C while
    waiting, the whole group is stopped (a test runner's children included)."""
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        return out or b"", False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, _ = proc.communicate()
        return out or b"", True
    except BaseException:
        kill_group(proc, grace_s=grace_s)
        raise


# The usual key variables of the providers litellm speaks to (and cloud credentials some use).
PROVIDER_KEY_VARS = frozenset("""
    OPENAI_API_KEY OPENAI_ORGANIZATION ANTHROPIC_API_KEY GEMINI_API_KEY GOOGLE_API_KEY PALM_API_KEY
    AZURE_API_KEY AZURE_OPENAI_API_KEY AZURE_AI_API_KEY COHERE_API_KEY CO_API_KEY MISTRAL_API_KEY CODESTRAL_API_KEY
    GROQ_API_KEY TOGETHERAI_API_KEY TOGETHER_API_KEY DEEPSEEK_API_KEY XAI_API_KEY OPENROUTER_API_KEY
    HUGGINGFACE_API_KEY HF_TOKEN FIREWORKS_AI_API_KEY FIREWORKS_API_KEY PERPLEXITYAI_API_KEY REPLICATE_API_KEY
    VOYAGE_API_KEY CEREBRAS_API_KEY NVIDIA_NIM_API_KEY ANYSCALE_API_KEY AI21_API_KEY DATABRICKS_TOKEN
    WATSONX_APIKEY WATSONX_API_KEY CLOUDFLARE_API_KEY SAMBANOVA_API_KEY NEBIUS_API_KEY OLLAMA_API_KEY
    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_BEARER_TOKEN_BEDROCK
    VERTEXAI_CREDENTIALS GOOGLE_APPLICATION_CREDENTIALS
""".split())
PROVIDER_KEY_PREFIXES = ("LITELLM_",)


def scrubbed_environment(environ: dict[str, str], key_names: Iterable[str] = (), passthrough: Iterable[str] = ()) -> dict[str, str]:
    """`environ` without provider keys: the named key variables, the providers' usual ones and
    litellm's, except those listed in `passthrough`."""
    keep, drop = set(passthrough), set(key_names) | PROVIDER_KEY_VARS
    return {k: v for k, v in environ.items() if k in keep or not (k in drop or k.startswith(PROVIDER_KEY_PREFIXES))}


@lru_cache(maxsize=1)
def network_namespace_prefix() -> tuple[str, ...] | None:
    """The command prefix that runs a command without network here, or None when the OS does not allow it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ((unshare, "--net"), (unshare, "--user", "--map-root-user", "--net")):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


class SubprocessRunner:
    def __init__(self, extra_env: dict[str, str] | None = None, *, key_names: Iterable[str] = (), passthrough: Iterable[str] = (),
                 no_network: bool = False):
        self.extra_env = extra_env or {}
        self.key_names, self.passthrough = tuple(key_names), tuple(passthrough)
        self.no_network = no_network and network_namespace_prefix() is not None

    def with_env(self, extra_env: dict[str, str]) -> SubprocessRunner:
        """The same runner (keys removed, network as it was) with more variables set."""
        return SubprocessRunner({**self.extra_env, **extra_env}, key_names=self.key_names, passthrough=self.passthrough,
                                no_network=self.no_network)

    def _env(self) -> dict[str, str]:
        env = scrubbed_environment(dict(os.environ), self.key_names, self.passthrough)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        addopts = env.get("PYTEST_ADDOPTS", "")
        if "cacheprovider" not in addopts:
            env["PYTEST_ADDOPTS"] = (addopts + " -p no:cacheprovider").strip()
        env.update(self.extra_env)
        return env

    def run(self, command: str, cwd: Path, timeout_s: float) -> CommandResult:
        started = time.monotonic()
        shell_command = command
        if self.no_network:
            prefix = network_namespace_prefix() or ()
            shell_command = " ".join(shlex.quote(p) for p in prefix) + " sh -c " + shlex.quote(command)
        proc = subprocess.Popen(
            shell_command,
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self._env(),
        )
        out, timed_out = wait_or_stop(proc, timeout_s)  # Ctrl-C or SIGTERM while it runs stops it too
        if len(out) > MAX_OUTPUT_BYTES:
            half = MAX_OUTPUT_BYTES // 2
            out = out[:half] + b"\n[... output cut ...]\n" + out[-half:]
        return CommandResult(
            command,
            None if timed_out else proc.returncode,
            out.decode("utf-8", errors="replace"),
            time.monotonic() - started,
            timed_out,
        )
