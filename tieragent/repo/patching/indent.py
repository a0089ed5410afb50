"""Indentation: how a hunk's indentation maps onto the file's, by one uniform shift or not at all."""

from __future__ import annotations

from dataclasses import dataclass


def split_indent(line: str) -> tuple[str, str]:
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)], body


@dataclass(frozen=True)
class Indent:
    """How the hunk's indentation maps onto the file's: the same map re-indents added lines."""

    kind: str = "same"  # same | add | remove | retab
    prefix: str = ""  # add / remove: the prefix added to (or removed from) every hunk line
    src: str = ""  # retab: one indentation level as the hunk writes it
    dst: str = ""  # retab: the same level in the file

    def apply(self, line: str) -> str | None:
        if self.kind == "same" or not line.strip():
            return line
        ind, body = split_indent(line)
        if self.kind == "add":
            return self.prefix + line
        if self.kind == "remove":
            return line[len(self.prefix) :] if ind.startswith(self.prefix) else None
        # retab
        if ind == "" or set(ind) == set(self.dst):
            return line
        if set(ind) == set(self.src) and len(ind) % len(self.src) == 0:
            return self.dst * (len(ind) // len(self.src)) + body
        return None

    def describe(self) -> str:
        def show(s: str) -> str:
            return (
                "a tab"
                if s == "\t"
                else f"{len(s)} tabs"
                if set(s) == {"\t"}
                else f"{len(s)} spaces"
                if set(s) == {" "}
                else repr(s)
            )

        if self.kind == "add":
            return f"the file is indented by {show(self.prefix)} more than the hunk"
        if self.kind == "remove":
            return f"the file is indented by {show(self.prefix)} less than the hunk"
        if self.kind == "retab":
            return f"the file indents with {show(self.dst)} where the hunk writes {show(self.src)}"
        return "same indentation"


SAME = Indent()


def infer_indent(pairs: list[tuple[str, str]]) -> Indent | None:
    """The one uniform map from hunk indentation to file indentation, or None if there is none."""
    diff = [(h, f) for h, f in pairs if h != f]
    if not diff:
        return SAME
    h0, f0 = diff[0]
    if f0.endswith(h0):
        p = f0[: len(f0) - len(h0)]
        if all(f == p + h for h, f in pairs):
            return Indent("add", prefix=p)
    if h0.endswith(f0):
        p = h0[: len(h0) - len(f0)]
        if all(h == p + f for h, f in pairs):
            return Indent("remove", prefix=p)
    for a, b in ((" ", "\t"), ("\t", " ")):
        if all(set(h) <= {a} and set(f) <= {b} for h, f in pairs):
            levels = [(len(h), len(f)) for h, f in pairs if f]
            if not levels or levels[0][0] % levels[0][1]:
                continue
            k = levels[0][0] // levels[0][1]
            if k and all(len(h) == k * len(f) for h, f in pairs):
                return Indent("retab", src=a * k, dst=b)
    return None
