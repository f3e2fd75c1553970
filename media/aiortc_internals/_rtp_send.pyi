from collections.abc import Callable
from typing import Any

class SrtpError(Exception): ...

class SentHistory:
    def __init__(
        self, size: int, horizon: float, clock: Callable[[], float] | None = None
    ) -> None: ...
    def file(
        self,
        sequence_number: int,
        timestamp: int,
        marker: int,
        payload: bytes,
        abs_send_time: int,
        audio_level: tuple[bool, int] | None,
        /,
    ) -> None: ...
    def holds(self, sequence_number: int, /) -> bool: ...
    def entry(
        self, key: int, /
    ) -> tuple[int, int, int, bytes, int, tuple[bool, int] | None] | None: ...
    def __len__(self) -> int: ...

class RtpSend:
    def __init__(
        self,
        sender: Any,
        history: SentHistory,
        payload_type: int,
        ssrc: int,
        mid: bytes,
        abs_send_time_id: int,
        audio_level_id: int,
    ) -> None: ...
    def write(
        self,
        sequence_number: int,
        timestamp: int,
        marker: int,
        payload: bytes,
        audio_level: tuple[bool, int] | None,
        /,
    ) -> None: ...

def configure(
    srtp_protect_address: int,
    max_packet: int,
    connected: object,
    srtp_context: Callable[[Any], int],
    raw_socket: Callable[[Any], int],
    /,
) -> None: ...
