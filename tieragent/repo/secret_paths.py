"""Which paths look like they hold secrets. Such files are never read into a prompt or patched."""

from __future__ import annotations

from ..core.globs import matches

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


def looks_secret(rel_path: str) -> bool:
    """True for paths such as `.env`, `config/prod.pem`, `~/.ssh/id_rsa`, `.aws/credentials`."""
    return matches(rel_path, SECRET_PATTERNS)
