"""What the internals tests compare: a function's source fingerprint and its parameters."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any


def fingerprint(function: Callable[..., Any]) -> str:
    """sha256[:16] of the function's source: changes whenever its code does."""
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def params(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)
