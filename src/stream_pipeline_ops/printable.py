"""Text read from AWS (keys, ARNs, messages, log lines), made safe to print on a terminal.

Whoever can write a failure path, a log line or an outputs file chooses these strings: an S3 key can
hold ``\\x1b[2J`` (clear the screen), an OSC 8 hyperlink or a bidirectional override. Every character
that is not printable (controls, C1 controls, format characters) is shown as an escape, and the
result is bounded. Rich markup (``[bold]``) is not interpreted here: print the result as a
``rich.text.Text``, never as markup.
"""

from __future__ import annotations

import json


def shown(value: object, limit: int = 100) -> str:
    """``value`` as printable characters only (the others as ``\\xNN``/``\\uNNNN``), at most ``limit`` long."""
    text = value if isinstance(value, str) else json.dumps(value, default=repr)[: limit * 2]
    text = "".join(c if c.isprintable() else _escape(c) for c in text[: limit * 2])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
