"""Which node holds which live room, and which nodes are live (ARCHITECTURE.md, "Placement").

`Placement` (placement/nodes.py) is the one interface; `LocalPlacement` holds every
room in this process (the default), `RedisPlacement` spreads rooms over the nodes
that report to one Redis. Placement and presence only: nothing durable lives here.
"""
