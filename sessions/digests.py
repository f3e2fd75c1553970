"""A feedback digest's text (IMI's "Feedback Digest"): what a coach writes to one trainee.

Three sections: strengths, areas to develop, next steps. A digest is a draft until
shared; an edit after sharing keeps the text shared before it and bumps the version,
so what a trainee once read is never silently rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessions.errors import DomainError

#: the sections, in the order a digest reads
SECTIONS = ("strengths", "develop", "next_steps")
#: all three sections together
MAX_CHARS = 8000


class InvalidDigest(DomainError):
    code = "invalid_digest"


class EmptyDigest(DomainError):
    """Sharing a digest with nothing written in it."""

    code = "digest_empty"
    status = 409


@dataclass(frozen=True)
class DigestText:
    strengths: str = ""
    develop: str = ""
    next_steps: str = ""

    def __post_init__(self) -> None:
        for name in SECTIONS:
            if not isinstance(getattr(self, name), str):
                raise InvalidDigest(f"'{name}' must be a string")
        if self.chars > MAX_CHARS:
            raise InvalidDigest(
                f"a digest holds at most {MAX_CHARS} characters ({self.chars} written)"
            )

    @property
    def chars(self) -> int:
        return sum(len(getattr(self, name)) for name in SECTIONS)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name).strip() for name in SECTIONS)

    def changed(self, data: Mapping[str, Any]) -> DigestText:
        """This text with the sections `data` names replaced (others kept)."""
        values = {name: data.get(name, getattr(self, name)) for name in SECTIONS}
        return DigestText(**values)

    def to_json(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SECTIONS}
