"""Moved to `rooms/directory.py` (the room service owns live rooms).

Kept so that branches written before the move still import; remove once they are merged.
"""

from rooms.directory import LiveRoom, RoomDirectory, ServerClosing, UnknownRoom

__all__ = ["LiveRoom", "RoomDirectory", "ServerClosing", "UnknownRoom"]
