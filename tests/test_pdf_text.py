"""The tests' PDF reader reads a stream by its /Length, whatever bytes it ends in."""

from __future__ import annotations

import itertools
import zlib

from tests.pdf_text import pdf_text


def one_page(content: bytes) -> bytes:
    """A minimal PDF whose page draws ``content`` (a compressed content stream)."""
    stream = zlib.compress(content)
    return (
        b"%%PDF-1.3\n1 0 obj\n<< /Filter /FlateDecode /Length %d >>\n"
        b"stream\n%s\nendstream\nendobj\n" % (len(stream), stream)
    )


def test_a_stream_whose_compressed_bytes_end_in_an_end_of_line_is_read_whole() -> None:
    for ending in (b"\r", b"\n"):
        # the first text whose compressed stream ends in `ending` (an end-of-line
        # pattern before `endstream` would take that byte and truncate the stream)
        text = next(
            t
            for t in (f"Reflection {i}".encode() for i in itertools.count())
            if zlib.compress(b"BT (" + t + b") Tj ET").endswith(ending)
        )
        assert pdf_text(one_page(b"BT (" + text + b") Tj ET")) == text.decode()
