"""Which paths look like they hold secrets. Such files are never read into a prompt or patched."""

from __future__ import annotations

from functools import lru_cache

import pathspec

SECRET_PATTERNS = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "credentials",
    "credentials.*",
    "*credentials*.json",
    "secrets.*",
    "*.secret",
    "*.secrets",
    "service-account*.json",
    ".aws/",
    ".ssh/",
    ".gnupg/",
    ".docker/config.json",
)


@lru_cache(maxsize=1)
def _spec() -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(SECRET_PATTERNS)


def looks_secret(rel_path: str) -> bool:
    """True for paths such as `.env`, `config/prod.pem`, `~/.ssh/id_rsa`, `.aws/credentials`."""
    return _spec().match_file(rel_path.replace("\\", "/"))
