"""JSON decoding for what clients send: nesting is bounded, every failure is a ValueError.

The standard decoder raises RecursionError (not a ValueError) past ~1,000
levels, which frames and bodies under the size limits reach easily; nothing this
server accepts nests deeper than a few levels.  Usable as a `json=` module for
python-socketio/python-engineio (it has `loads` and `dumps`).
"""

from __future__ import annotations

import json
from typing import Any

#: deeper than anything in docs/protocol.md or the REST API, by far
MAX_DEPTH = 32
#: engine.io's own guard: integers this long are refused (int() of them is quadratic)
MAX_INT_DIGITS = 100

dumps = json.dumps
JSONDecodeError = json.JSONDecodeError


def _int(digits: str) -> int:
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError("an integer is too long")
    return int(digits)


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def depth_within(value: object, limit: int = MAX_DEPTH) -> bool:
    """True if `value` nests lists/objects at most `limit` deep (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """Like json.loads; raises ValueError for anything a client should not send."""
    try:
        value = json.loads(text, parse_int=_int, parse_constant=_constant, **kwargs)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if not depth_within(value):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value
