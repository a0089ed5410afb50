"""The package's version, here so that every layer can name it (the model layer's User-Agent, the
CLI's --version and SARIF output) without importing the package root."""

__version__ = "0.1.0"
