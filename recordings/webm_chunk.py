"""Whether an uploaded browser-copy chunk is a WebM file with media in it.

Read, never decoded: the element structure only (EBML, RFC 8794, with Matroska's
element IDs). A chunk must be an EBML header, then a Segment whose children include
a Cluster holding at least one SimpleBlock or BlockGroup. Chromium's MediaRecorder
writes the Segment and its Clusters with an unknown size (a live stream): such an
element runs to the end of the data. A recorder stopped before its first frame
gives the EBML header alone (110 bytes: the header and zero padding); that, and
anything that is not WebM at all, holds no media. The bytes are the client's, so
nothing here raises on them: a size or an ID that does not fit ends the walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import NamedTuple

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
#: SimpleBlock and BlockGroup: where a Cluster's frames are
BLOCKS = frozenset({0xA3, 0xA0})
#: elements looked at before giving up (a chunk's Clusters come early)
MAX_ELEMENTS = 10_000


class Element(NamedTuple):
    id: int
    start: int
    """Where its data begins."""
    end: int
    """Where its data ends (the end of the data for an unknown size)."""


def has_media(data: bytes) -> bool:
    """True if ``data`` is a WebM file with at least one block of media."""
    header = _element(data, 0, len(data))
    if header is None or header.id != EBML:
        return False
    segment = _element(data, header.end, len(data))
    if segment is None or segment.id != SEGMENT:
        return False
    walked = islice(_cluster_contents(data, segment), MAX_ELEMENTS)
    return any(element.id in BLOCKS for element in walked if element is not None)


def _cluster_contents(data: bytes, segment: Element) -> Iterator[Element | None]:
    """The Segment's elements in order, each Cluster followed by its own (a child
    of anything else is None: counted toward MAX_ELEMENTS, never taken for a block)."""
    for child in _children(data, segment.start, segment.end):
        if child.id != CLUSTER:
            yield None
            continue
        yield from _children(data, child.start, child.end)


def _children(data: bytes, start: int, end: int) -> Iterator[Element]:
    pos = start
    while (element := _element(data, pos, end)) is not None:
        yield element
        pos = element.end  # past its header at least: the walk always moves on


def _element(data: bytes, pos: int, end: int) -> Element | None:
    """The element at ``pos`` (within ``end``), or None if it does not fit.

    Its ID and size are EBML variable-length integers: the first byte's leading
    zeros plus one give the length. An ID keeps its length marker (Matroska IDs are
    1 to 4 bytes); a size whose value bits are all set is unknown.
    """
    if pos >= end or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if length > 4 or pos + length > end:
        return None
    element_id = int.from_bytes(data[pos : pos + length], "big")
    pos += length
    if pos >= end or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > end:
        return None
    unknown = (1 << (7 * length)) - 1
    size = int.from_bytes(data[pos : pos + length], "big") & unknown
    pos += length
    if size == unknown:
        return Element(element_id, pos, end)  # a live stream's: to the end
    if pos + size > end:
        return None
    return Element(element_id, pos, pos + size)
