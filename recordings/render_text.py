"""Text for the composite render, drawn from a small built-in bitmap font.

PyAV's bundled FFmpeg has no `drawtext` filter (no libfreetype) and Pillow is
not a dependency, so labels and captions are stamped from a 5×7 ASCII font (with descenders)
into numpy masks. Anything outside ASCII is folded to its closest ASCII form
("Nowák" → "Nowak", "—" → "-") so a name never renders as boxes.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import numpy.typing as npt

GLYPH_WIDTH, GLYPH_HEIGHT = 5, 9  # 7 rows above the baseline, 2 for descenders
#: horizontal distance from one glyph to the next, in font pixels
ADVANCE = GLYPH_WIDTH + 1

# One glyph a line: the character, then its rows top to bottom as 5-bit masks
# (0x10 is the leftmost pixel): 7 rows, or 9 for a glyph that descends below
# the baseline. Drawn for this project.
_FONT = r"""
  00 00 00 00 00 00 00
! 04 04 04 04 04 00 04
" 0A 0A 0A 00 00 00 00
# 0A 0A 1F 0A 1F 0A 0A
$ 04 0F 14 0E 05 1E 04
% 18 19 02 04 08 13 03
& 0C 12 14 08 15 12 0D
' 0C 04 08 00 00 00 00
( 02 04 08 08 08 04 02
) 08 04 02 02 02 04 08
* 00 04 15 0E 15 04 00
+ 00 04 04 1F 04 04 00
, 00 00 00 00 00 0C 0C 04 08
- 00 00 00 1F 00 00 00
. 00 00 00 00 00 0C 0C
/ 00 01 02 04 08 10 00
0 0E 11 13 15 19 11 0E
1 04 0C 04 04 04 04 0E
2 0E 11 01 02 04 08 1F
3 1F 02 04 02 01 11 0E
4 02 06 0A 12 1F 02 02
5 1F 10 1E 01 01 11 0E
6 06 08 10 1E 11 11 0E
7 1F 01 02 04 08 08 08
8 0E 11 11 0E 11 11 0E
9 0E 11 11 0F 01 02 0C
: 00 0C 0C 00 0C 0C 00
; 00 0C 0C 00 00 0C 0C 04 08
< 02 04 08 10 08 04 02
= 00 00 1F 00 1F 00 00
> 08 04 02 01 02 04 08
? 0E 11 01 02 04 00 04
@ 0E 11 01 0D 15 15 0E
A 0E 11 11 11 1F 11 11
B 1E 11 11 1E 11 11 1E
C 0E 11 10 10 10 11 0E
D 1C 12 11 11 11 12 1C
E 1F 10 10 1E 10 10 1F
F 1F 10 10 1E 10 10 10
G 0E 11 10 17 11 11 0F
H 11 11 11 1F 11 11 11
I 0E 04 04 04 04 04 0E
J 07 02 02 02 02 12 0C
K 11 12 14 18 14 12 11
L 10 10 10 10 10 10 1F
M 11 1B 15 15 11 11 11
N 11 11 19 15 13 11 11
O 0E 11 11 11 11 11 0E
P 1E 11 11 1E 10 10 10
Q 0E 11 11 11 15 12 0D
R 1E 11 11 1E 14 12 11
S 0F 10 10 0E 01 01 1E
T 1F 04 04 04 04 04 04
U 11 11 11 11 11 11 0E
V 11 11 11 11 11 0A 04
W 11 11 11 15 15 15 0A
X 11 11 0A 04 0A 11 11
Y 11 11 11 0A 04 04 04
Z 1F 01 02 04 08 10 1F
[ 0E 08 08 08 08 08 0E
\ 00 10 08 04 02 01 00
] 0E 02 02 02 02 02 0E
^ 04 0A 11 00 00 00 00
_ 00 00 00 00 00 00 1F
` 08 04 02 00 00 00 00
a 00 00 0E 01 0F 11 0F
b 10 10 16 19 11 11 1E
c 00 00 0E 10 10 11 0E
d 01 01 0D 13 11 11 0F
e 00 00 0E 11 1F 10 0E
f 06 09 08 1C 08 08 08
g 00 00 0F 11 11 11 0F 01 0E
h 10 10 16 19 11 11 11
i 04 00 0C 04 04 04 0E
j 02 00 06 02 02 02 02 12 0C
k 10 10 12 14 18 14 12
l 0C 04 04 04 04 04 0E
m 00 00 1A 15 15 11 11
n 00 00 16 19 11 11 11
o 00 00 0E 11 11 11 0E
p 00 00 1E 11 11 11 1E 10 10
q 00 00 0F 11 11 11 0F 01 01
r 00 00 16 19 10 10 10
s 00 00 0E 10 0E 01 1E
t 08 08 1C 08 08 09 06
u 00 00 11 11 11 13 0D
v 00 00 11 11 11 0A 04
w 00 00 11 11 15 15 0A
x 00 00 11 0A 04 0A 11
y 00 00 11 11 11 11 0F 01 0E
z 00 00 1F 02 04 08 1F
{ 02 04 04 08 04 04 02
| 04 04 04 04 04 04 04
} 08 04 04 02 04 04 08
~ 00 00 08 15 02 00 00
"""

_SUBSTITUTES = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "·": "-", "…": "..."}

Mask = npt.NDArray[np.bool_]


def _parse(font: str) -> dict[str, Mask]:
    glyphs: dict[str, Mask] = {}
    bits = 1 << np.arange(GLYPH_WIDTH - 1, -1, -1)
    for line in font.split("\n"):
        if not line:
            continue
        rows = np.zeros(GLYPH_HEIGHT, np.int64)
        values = [int(value, 16) for value in line[2:].split()]
        rows[: len(values)] = values
        glyphs[line[0]] = (rows[:, None] & bits[None, :]) != 0
    return glyphs


_GLYPHS = _parse(_FONT)


@lru_cache(maxsize=1024)
def ascii_text(text: str) -> str:
    """`text` folded to the characters the font has; anything else becomes '?'."""
    text = "".join(_SUBSTITUTES.get(c, c) for c in text)
    folded = unicodedata.normalize("NFKD", text)
    out = []
    for char in folded:
        if unicodedata.combining(char):
            continue  # the accent of a decomposed letter
        out.append(char if char in _GLYPHS else "?")
    return "".join(out)


def text_width(text: str, scale: int) -> int:
    """Width in pixels of `text` drawn at `scale` (no trailing gap)."""
    return max(0, len(ascii_text(text)) * ADVANCE - 1) * scale


@lru_cache(maxsize=256)
def fit_text(text: str, scale: int, max_width: int) -> str:
    """`text`, shortened with "..." if it is wider than `max_width` pixels."""
    text = ascii_text(text)
    if text_width(text, scale) <= max_width:
        return text
    keep = max(0, (max_width // scale + 1) // ADVANCE - 3)
    return text[:keep].rstrip() + "..."


@lru_cache(maxsize=256)
def text_mask(text: str, scale: int) -> Mask:
    """`text` as a boolean image GLYPH_HEIGHT × scale high, True where a glyph is lit."""
    text = ascii_text(text)
    if not text:
        return np.zeros((GLYPH_HEIGHT * scale, 0), np.bool_)
    spacer = np.zeros((GLYPH_HEIGHT, 1), np.bool_)
    parts: list[Mask] = []
    for char in text:
        parts += [_GLYPHS[char], spacer]
    mask = np.hstack(parts[:-1])
    if scale > 1:
        mask = mask.repeat(scale, axis=0).repeat(scale, axis=1)
    mask.setflags(write=False)  # shared through the cache
    return mask
