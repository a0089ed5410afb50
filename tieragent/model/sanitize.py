"""Model text made safe to write and print, once, where replies enter (the gateway).

A reply may hold what no file or terminal should get: a lone surrogate (a JSON `\\ud800` escape
decodes to one, and UTF-8 cannot encode it), NUL, or control characters that a terminal obeys
(ESC starts a colour or a cursor move, and C1 codes act the same on some terminals). Each
becomes U+FFFD, visibly, rather than vanishing: a patch line that held one does not silently
turn into another line. Tab, newline, carriage return (CRLF files) and form feed (page breaks
in Python and C sources) stay.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 but \t \n \f \r, DEL, C1


def clean_model_text(text: str) -> str:
    """`text` with lone surrogates and control characters (but \\t \\n \\r \\f) replaced by U+FFFD."""
    if _SURROGATE.search(text):
        # through UTF-16, a pair split into two code points becomes one character again; a lone half cannot
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL.sub(REPLACEMENT, text)
