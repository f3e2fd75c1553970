"""The simulation domain: seats, roles, phases and who hears whom.

Pure Python with no I/O libraries, so every rule is testable in microseconds.
"""
