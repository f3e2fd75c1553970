"""What the producer works out once about each arriving packet, for every consumer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PacketInfo:
    ext: int  # sequence number extended past 16 bits
    arrival: float
    frame_start: bool
    keyframe: bool
    layer: int = 0  # the simulcast layer it belongs to (0 without simulcast)
