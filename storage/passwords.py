"""Password hashes: argon2id (argon2-cffi's defaults), computed off the event loop.

One hash takes ~50 ms of CPU and 64 MiB of memory, so hashing runs in a worker
thread and at most `CONCURRENT_HASHES` run at once: a burst of sign-ins waits
rather than exhausting memory. An unknown account is checked against a dummy
hash, so it costs the same time as a wrong password.
"""

from __future__ import annotations

import asyncio
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

CONCURRENT_HASHES = 2


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106's low-memory profile
        self._slots = asyncio.Semaphore(CONCURRENT_HASHES)

    @cached_property
    def _dummy(self) -> str:
        return self.hasher.hash("not anybody's password")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored`; with no stored hash, as slow as a mismatch."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        dummy = self._dummy  # made on the first check of any kind, so that one is no tell either
        try:
            return self.hasher.verify(stored or dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when `stored` was made with weaker parameters than the hasher's current ones."""
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
