"""The room service: the one owner of every live room (ARCHITECTURE.md, "The room service").

Typed commands in (`commands.py`), typed events out (`events.py`), the live rooms,
their locks and clocks in `directory.py`; no sockets, no HTTP.
"""
