"""Typed keys for the objects an application shares with its handlers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from placement.nodes import Placement
from recordings.feedback import Feedback
from rooms.directory import RoomDirectory
from sessions.ids import ScenarioId
from sessions.scenarios import Scenario
from storage.catalogue import Catalogue
from storage.database import Database

DATABASE = web.AppKey("database", Database)
CATALOGUE = web.AppKey("catalogue", Catalogue)
SCENARIOS = web.AppKey("scenarios", Mapping[ScenarioId, Scenario])
DIRECTORY = web.AppKey("directory", RoomDirectory)
SECRET = web.AppKey("secret", str)
ADMIN_TOKEN = web.AppKey("admin_token", str)
#: base of issued join links; "" means the origin the admin called the API on
PUBLIC_URL = web.AppKey("public_url", str)
#: which node holds each live room (placement/); the join preview tells the page
PLACEMENT: web.AppKey[Placement] = web.AppKey("placement")
RECORDINGS_DIR = web.AppKey("recordings_dir", Path)
FEEDBACK = web.AppKey("feedback", Feedback)
