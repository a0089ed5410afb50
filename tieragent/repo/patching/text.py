"""A file's text as lines, keeping what must survive a patch byte for byte.

Each line keeps its own ending (so a CRLF file stays CRLF and a mixed file stays mixed), a
missing final newline stays missing, a UTF-8 byte-order mark stays, and bytes that are not
UTF-8 round-trip (Latin-1 files are read as Latin-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


class NotText(Exception):
    pass


@dataclass
class FileText:
    lines: list[str]  # without line endings
    eols: list[str]  # "\n", "\r\n" or "" (only the last line can lack one)
    eol: str  # the ending new lines get: the file's most common one
    encoding: str = "utf-8"
    bom: bool = False

    @classmethod
    def decode(cls, data: bytes) -> FileText:
        if b"\0" in data:
            raise NotText("binary file (it holds NUL bytes)")
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            encoding = "latin-1"
        return cls.from_text(text, encoding)

    @classmethod
    def from_text(cls, text: str, encoding: str = "utf-8") -> FileText:
        bom = text.startswith(BOM)
        if bom:
            text = text[1:]
        pieces = text.split("\n")
        lines: list[str] = []
        eols: list[str] = []
        crlf = 0
        for piece in pieces[:-1]:
            if piece.endswith("\r"):
                lines.append(piece[:-1])
                eols.append("\r\n")
                crlf += 1
            else:
                lines.append(piece)
                eols.append("\n")
        if pieces[-1]:
            lines.append(pieces[-1])
            eols.append("")
        eol = "\r\n" if crlf * 2 > len(pieces) - 1 and crlf else "\n"
        return cls(lines, eols, eol, encoding, bom)

    @property
    def final_newline(self) -> bool:
        return not self.eols or self.eols[-1] != ""

    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(a + b for a, b in zip(self.lines, self.eols, strict=True))

    def encode(self) -> bytes:
        return self.text().encode(self.encoding, errors="strict")


def assemble(base: FileText, pieces: list[tuple[str, str]], final_newline: bool) -> FileText:
    """A FileText from (line, ending) pairs: every line but the last ends; the last as asked."""
    lines = [p[0] for p in pieces]
    eols = [p[1] or base.eol for p in pieces]
    if eols:
        eols[-1] = (pieces[-1][1] or base.eol) if final_newline else ""
    return FileText(lines, eols, base.eol, base.encoding, base.bom)


def read_text(root: Path, rel: str) -> FileText:
    return FileText.decode((root / rel).read_bytes())
