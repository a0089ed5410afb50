"""The layers a configuration is merged from, and what a bad value is blamed on.

A layer is a mapping read from a YAML file, from TIERAGENT_* variables or from flags. Layers merge
key by key; `origins` keeps, for every key a layer set, that layer's name, so a validation error
(and `tieragent config show`) can say where a value came from.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import ErrorDetails

from .errors import ConfigError

ENV_PREFIX = "TIERAGENT_"
ENV_SEPARATOR = "__"

# dotted key (as a tuple) -> the layer that set it
Origins = dict[tuple[str, ...], str]


def config_file_exists(path: Path, label: str) -> bool:
    """False when there is no such name; an error when the name is there but is no readable file
    (a directory, a dangling symlink, a symlink loop): ignoring it would run with other settings."""
    if not os.path.lexists(path):
        return False
    try:
        if path.is_file():
            return True
        what = "a directory" if path.is_dir() else "not a regular file"
        if path.is_symlink():
            os.stat(path)  # raises for a loop (ELOOP) and for a missing target
    except OSError as e:
        what = (
            "a symlink loop"
            if e.errno == errno.ELOOP
            else "a symlink to a missing file"
            if e.errno == errno.ENOENT
            else f"unreadable ({e.strerror})"
        )
    raise ConfigError(label, "(file)", f"is {what}", hint=f"Make {path} a YAML file, or remove it.")


def read_layer_text(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(label, "(file)", f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            label,
            "(file)",
            f"not UTF-8 text (byte {e.start}: {e.object[e.start : e.start + 1]!r})",
            hint="Save the file as UTF-8.",
        ) from None


def parse_layer(text: str, label: str) -> dict[str, Any]:
    """One layer's YAML as a mapping; a clear error naming the line otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ConfigError(label, where, f"not valid YAML: {getattr(e, 'problem', e)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(label, "(top level)", "must be a mapping of keys to values")
    return data


def env_layers(environ: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """TIERAGENT_TIERS__MID__MODEL=x  ->  ("env TIERAGENT_...", {"tiers": {"mid": {"model": "x"}}}).

    Values are parsed as YAML scalars, so numbers and booleans work.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or ENV_SEPARATOR not in name:
            continue
        raw = environ[name]
        try:
            value: Any = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        for part in reversed(name[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR)):
            value = {part: value}
        out.append((f"env {name}", value))
    return out


def merge(
    base: dict[str, Any], layer: dict[str, Any], source: str, origins: Origins, path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`layer` merged into `base` (nested mappings key by key), noting in `origins` which layer set each key."""
    for key, value in layer.items():
        here = (*path, key)
        origins[here] = source
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = merge(dict(base[key]), value, source, origins, here)
        else:
            base[key] = value
            if isinstance(value, dict):
                _record(value, source, origins, here)
    return base


def _record(d: dict[str, Any], source: str, origins: Origins, path: tuple[str, ...]) -> None:
    for k, v in d.items():
        origins[(*path, k)] = source
        if isinstance(v, dict):
            _record(v, source, origins, (*path, k))


def source_of(loc: tuple[str, ...], origins: Origins) -> str:
    """The layer that set `loc` or the nearest key above it."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]]
    return "defaults"


def _did_you_mean(err: ErrorDetails, schema: type[BaseModel]) -> str:
    """ " (did you mean 'model'?)" for a misspelt key, from the fields its section has."""
    import difflib

    section: Any = schema
    for part in err["loc"][:-1]:
        field = (
            section.model_fields.get(str(part))
            if isinstance(section, type) and issubclass(section, BaseModel)
            else None
        )
        if field is None:  # a dict of tiers or task classes: keys are not fields
            alias = (
                {f.alias: f for f in section.model_fields.values() if f.alias}
                if isinstance(section, type) and issubclass(section, BaseModel)
                else {}
            )
            field = alias.get(str(part))
            if field is None:
                return ""
        section = _model_of(field.annotation)
    names = list(section.model_fields) if isinstance(section, type) and issubclass(section, BaseModel) else []
    close = difflib.get_close_matches(str(err["loc"][-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside `X | None`."""
    for arg in getattr(annotation, "__args__", ()) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def error_reason(err: ErrorDetails, schema: type[BaseModel]) -> str:
    """What is wrong with a value, in a few words; for an unknown key, the field it was probably meant to be."""
    kind = err.get("type", "")
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return "unknown key" + _did_you_mean(err, schema)
    msg = err.get("msg", "invalid")
    return f"{msg} (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else msg
