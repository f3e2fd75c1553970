"""The kinds of media a seat can publish."""

from enum import StrEnum


class MediaKind(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"
