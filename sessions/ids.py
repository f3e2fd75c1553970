"""Named types for the identifiers that cross package boundaries."""

from typing import NewType

RoomId = NewType("RoomId", str)
SeatId = NewType("SeatId", str)
Identity = NewType("Identity", str)
ScenarioId = NewType("ScenarioId", str)
