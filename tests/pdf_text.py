"""The text a PDF written by fpdf2 shows: enough of a reader to check what the server wrote.

Objects are found by their `N 0 obj` headers and streams inflated (FlateDecode).
Text drawn in an embedded (Type0, Identity-H) font is a string of 2-byte glyph
codes; each font's ToUnicode map turns them back into characters, so the font
selected (`/Fn size Tf`) is followed through each content stream. Text in a core
font (Helvetica) is its Latin-1 bytes.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n", re.S)
_LENGTH = re.compile(rb"/Length (\d+)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_TOKENS = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (its dictionary text, its inflated stream or None)."""
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(pdf):
        body = match.group(2)
        stream = _STREAM.search(body)
        data = None
        if stream is not None:
            # the dictionary's /Length, not the `endstream` after it: compressed
            # bytes may end in \r or \n, which an end-of-line pattern would take
            length = _LENGTH.search(body[: stream.start()])
            assert length is not None, f"a stream without a direct /Length: {body[:80]!r}"
            data = body[stream.end() : stream.end() + int(length.group(1))]
            if b"FlateDecode" in body[: stream.start()]:
                data = zlib.decompress(data)
        found[int(match.group(1))] = (body, data)
    return found


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes (its backslash escapes undone)."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            i += 1 + len(octal.group(0))
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def _cmap(data: bytes) -> dict[int, str]:
    glyphs: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            glyphs[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    return glyphs


def pdf_text(pdf: bytes) -> str:
    """Every string the PDF draws, one per line, in drawing order."""
    objects = _objects(pdf)
    fonts: dict[bytes, dict[int, str] | None] = {}  # resource name → glyph map (None: core)
    for body, _ in objects.values():
        for name, number in re.findall(rb"/(F\d+)\s+(\d+)\s+0\s+R", body):
            font_body = objects.get(int(number), (b"", None))[0]
            to_unicode = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", font_body)
            cmap = objects.get(int(to_unicode.group(1)), (b"", None))[1] if to_unicode else None
            fonts[name] = _cmap(cmap) if cmap else None
    shown: list[str] = []
    for _, data in objects.values():
        if data is None or b"Tj" not in data:
            continue
        glyphs: dict[int, str] | None = None
        for match in _TOKENS.finditer(data):
            if match.group(1):
                glyphs = fonts.get(match.group(1))
                continue
            raw = _literal(match.group(2))
            if glyphs is None:
                shown.append(raw.decode("latin-1"))
            else:
                codes = (int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
                shown.append("".join(glyphs.get(c, "\ufffd") for c in codes))
    return "\n".join(shown)
