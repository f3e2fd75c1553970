"""The composition root: one function builds the whole server from a Config."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from caucus.config import Config
from caucus.drain import Drain
from caucus.logbook_writer import LOGBOOK_WRITER, LogbookWriter
from caucus.media_bridge import SfuMedia
from caucus.metrics import NodeMetrics
from caucus.retention import Retention
from media import aiortc_internals
from media.announce import announced_address, parse_port_range
from media.link_stats import LinkWatch
from media.seat_connection import peer_connections_in_memory
from media.sfu import SfuConfig
from placement.local import LocalPlacement
from placement.nodes import NodeInfo, NodeLoad, Placement, PlacementUnavailable
from placement.presence import Presence
from placement.redis_placement import RedisPlacement
from recordings.feedback import Feedback
from recordings.recovery import recover_interrupted
from recordings.service import Recordings
from recordings.writer_thread import WriterThread
from rooms.commands import End, RecordingFault, ReportMedia
from rooms.directory import RoomDirectory
from rooms.events import RoomChanged, RoomReleased
from rooms.media_port import MediaPort, NoMedia, follow
from rooms.service import RoomService
from sessions.browser_copy import CopyLimits
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.scenarios import ScenarioCatalogue, builtin_scenarios
from sessions.timeline import EventKind
from signaling.namespace import SimulationNamespace
from signaling.protocol import MAX_PACKET_BYTES
from signaling.revocation import guards_joins
from signaling.turn import IceServerPolicy
from signaling.wire import GuardedServer, LibraryLog
from storage.browser_copies import BrowserCopies
from storage.catalogue import Catalogue
from storage.database import Database
from storage.migrate import upgrade
from storage.notes import Notes
from storage.people import People
from storage.scenarios import written
from web import (
    annotations_api,
    api,
    audit_api,
    availability_api,
    browser_copy_api,
    calendar,
    cohorts_api,
    console,
    digest_api,
    home,
    levels_api,
    live_api,
    logbook_api,
    metrics,
    my_seat,
    pages,
    people_api,
    recordings_api,
    room_owner,
    rounds_api,
    scenarios_api,
    signin,
    simulations_api,
    tracker_api,
)
from web.auth import PEOPLE, signed_in
from web.ended_rooms import ENDED_ROOMS
from web.errors import errors_as_json, quiet_client_http_errors
from web.forwarded import forwarded_headers, parse_networks
from web.health import PEER_CONNECTION_OBJECTS, PEER_CONNECTIONS, RECORDING_COUNTS
from web.keys import (
    ADMIN_TOKEN,
    CATALOGUE,
    DATABASE,
    DIRECTORY,
    FEEDBACK,
    PLACEMENT,
    PUBLIC_URL,
    RECORDINGS_DIR,
    SCENARIOS,
    SECRET,
)
from web.mail import Mailer, SmtpSettings
from web.person_viewers import signed_in_viewers
from web.security import CONNECT_ORIGINS, add_security_headers, origin_of, origin_policy

logger = logging.getLogger(__name__)

NAMESPACE = web.AppKey("namespace", SimulationNamespace)
ROOMS = web.AppKey("rooms", RoomService)
RECORDINGS = web.AppKey("recordings", Recordings)
RETENTION = web.AppKey("retention", Retention)
NODE_METRICS = web.AppKey("node_metrics", NodeMetrics)
MAX_BODY_BYTES = 64 * 1024


def socket_server(config: Config) -> GuardedServer:
    # No Socket.IO manager over Redis: a room's sockets all live on the node that holds
    # it (placement/), so nothing needs to cross processes, and a Redis outage cannot
    # silence a room's own signalling (issue 17, item 5).
    origins = [config.base_url, *config.allowed_origins.split(",")]
    return GuardedServer(
        async_mode="aiohttp",
        # Long, lossy international links: engine.io's defaults or longer, so a
        # 500 ms RTT never reads as a dead connection.
        ping_interval=config.ping_interval_s,
        ping_timeout=config.ping_timeout_s,
        max_http_buffer_size=MAX_PACKET_BYTES,
        cors_allowed_origins=origin_policy(origins),
        logger=LibraryLog("signaling.wire.socketio"),
        engineio_logger=LibraryLog("signaling.wire.engineio"),
    )


def presence_context(
    config: Config, directory: RoomDirectory, placement: Placement
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Register this node, report its load every 2 s, unplace the rooms it forgets."""

    def load() -> NodeLoad:
        rooms = directory.rooms()
        return NodeLoad(frozenset(r.id for r in rooms), sum(len(r.sockets) for r in rooms))

    async def release(room_id: RoomId) -> None:
        try:
            await placement.release(room_id)
        except PlacementUnavailable:  # still placed here: the next join here reopens it
            logger.info("room %s ended while placement was unreachable", room_id)

    async def context(app: web.Application) -> AsyncIterator[None]:
        presence = Presence(placement, this_node(config), load)
        directory.on_released.append(release)
        await presence.start()
        yield
        await presence.stop()

    return context


def recording_counts(recordings: Recordings) -> Callable[[], dict[str, int]]:
    def counts() -> dict[str, int]:
        disk = recordings.disk
        return {
            "queued_frames": disk.queued_frames if isinstance(disk, WriterThread) else 0,
            "frames_dropped": disk.stats.frames_dropped if isinstance(disk, WriterThread) else 0,
            "deferred_writes": recordings.deferred_writes,
        }

    return counts


def node_placement(config: Config) -> Placement:
    """Where this node's rooms are placed: among the nodes reporting to Redis when
    CAUCUS_REDIS_URL is set, else every room in this process."""
    return RedisPlacement(config.redis_url) if config.redis_url else LocalPlacement()


def this_node(config: Config) -> NodeInfo:
    """This process as a node: a fresh id (a restarted process is a new node) and the
    origin clients reach it at (CAUCUS_PUBLIC_URL, else http(s)://host:port)."""
    return NodeInfo(f"{socket.gethostname()}:{config.port}:{uuid.uuid4().hex[:8]}", config.base_url)


def create_app(
    config: Config, media: MediaPort | None = None, placement: Placement | None = None
) -> web.Application:
    config = config.with_secrets()
    # settings a person typed: refused (ValueError) before anything is opened
    proxies = parse_networks(config.trusted_proxies)
    ice = IceServerPolicy.from_settings(config.stun_url, config.turn_urls, config.turn_secret)
    node_metrics = NodeMetrics.from_config(config)  # None: metrics are off
    quiet_client_http_errors()
    # the forwarded scheme first, so HSTS and the origin check see it
    forwarded = [forwarded_headers(proxies)] if proxies else []
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            # outermost: every request counted with the status it finally got
            *([node_metrics.http.middleware] if node_metrics else []),
            *forwarded,
            add_security_headers,
            errors_as_json,
            signed_in,
            signed_in_viewers,
        ],
    )
    database = Database(config.database)
    catalogue = Catalogue(database)
    # shipped + written in the console (loaded at start), one live object shared by all
    scenarios = ScenarioCatalogue(builtin_scenarios())
    feedback = Feedback(Notes(database), catalogue, scenarios)
    placement = placement or node_placement(config)
    directory = RoomDirectory(
        catalogue, scenarios, empty_timeout_s=config.empty_timeout_s, placement=placement
    )
    if config.node:  # one of several workers: another may have stored a scenario since

        async def reload_scenarios() -> None:
            scenarios.load(stored.scenario for stored in await written(database))

        directory.before_open = reload_scenarios
    recordings = Recordings(
        catalogue,
        config.recordings_dir,
        directory.session_ms,
        disk=WriterThread(),
        retry_s=config.recording_retry_s,
    )
    logbook_writer = LogbookWriter(database, lambda i: scenarios.get(ScenarioId(i)))
    bridge: SfuMedia | None = None
    links: LinkWatch | None = None
    if media is None and config.media:
        addresses = [a.strip() for a in config.ice_addresses.split(",") if a.strip()]
        sfu_config = SfuConfig(
            ice_host_addresses=addresses or None,
            announced_address=announced_address(
                config.announced_address, config.stun_url, addresses
            ),
            udp_ports=parse_port_range(config.udp_ports),
            connect_timeout=config.media_connect_timeout_s,
        )
        # aiortc's process-wide patches, applied once, here (idempotent)
        aiortc_internals.install(rtp_history_size=sfu_config.rtp_history_size)
        # link trouble is catalogued through the recordings' write queue: never awaited
        links = LinkWatch(directory.session_ms, recordings.store_event)
        media = bridge = SfuMedia(sfu_config, recordings, links=links)
    # the room service and everything that follows its events, subscribed once, here
    rooms = RoomService(directory, media or NoMedia(), feedback, config.grace_s)
    namespace = SimulationNamespace(rooms, config.secret, ice)
    namespace.fanout.subscribe(rooms.events)
    follow(rooms.events, rooms.media)
    rooms.events.subscribe(RoomChanged, lambda e: recordings.room_changed(e.room, e.t_ms))
    rooms.events.subscribe(RoomChanged, lambda e: logbook_writer.room_changed(e.room, e.t_ms))
    recordings.on_status = lambda room_id, reason: rooms.submit(RecordingFault(room_id, reason))
    if bridge is not None:
        media_bridge = bridge

        async def report_media(
            room_id: RoomId,
            seat: SeatId,
            kind: EventKind | None,
            detail: dict[str, str | int | None],
        ) -> None:
            await rooms.execute(ReportMedia(room_id, seat, kind, detail))

        async def close_room_media(e: RoomReleased) -> None:
            await media_bridge.sfu.close_room(e.room_id)

        bridge.attach(namespace.send_to_seat, report_media)
        rooms.events.subscribe(RoomReleased, close_room_media)
    sio = socket_server(config)
    sio.register_namespace(namespace)
    sio.attach(app)

    app[DATABASE] = database
    app[PEOPLE] = People(database)
    app[CATALOGUE] = catalogue
    app[SCENARIOS] = scenarios
    app[DIRECTORY] = directory
    app[SECRET] = config.secret
    app[ADMIN_TOKEN] = config.admin_token
    app[PUBLIC_URL] = config.public_url or ""
    app[RECORDINGS_DIR] = config.recordings_dir
    app[FEEDBACK] = feedback
    app[RECORDINGS] = recordings
    app[NAMESPACE] = namespace
    app[ROOMS] = rooms
    app[LOGBOOK_WRITER] = logbook_writer
    app[PLACEMENT] = placement
    # REST calls that change a room placed on another node are sent there
    room_owner.setup(app)
    others = (origin_of(o) for o in config.allowed_origins.split(","))
    app[CONNECT_ORIGINS] = tuple(o for o in others if o is not None)
    if bridge is not None:
        sfu_bridge = bridge
        app[PEER_CONNECTIONS] = lambda: sum(
            len(router.participants) for router in sfu_bridge.sfu.rooms.values()
        )
        app[PEER_CONNECTION_OBJECTS] = peer_connections_in_memory
    app[RECORDING_COUNTS] = recording_counts(recordings)
    app.add_routes(pages.routes)
    # before any /api/simulations/{id} route: "/api/simulations/{id}.ics" is matched in order
    app.add_routes(calendar.routes)
    app.add_routes(home.routes)
    app.add_routes(logbook_api.routes)
    app.add_routes(tracker_api.routes)  # the accountability tracker, certificates
    app.add_routes(digest_api.routes)  # feedback digests
    app.add_routes(api.routes)
    app.add_routes(annotations_api.routes)
    app.add_routes(recordings_api.routes)
    # the browser's second copy of each publisher (issue 18 item 4)
    browser_copy_api.setup(app, BrowserCopies(database), CopyLimits())
    app.add_routes(console.routes)
    app.add_routes(audit_api.routes)
    # people and sign-in: deactivated people's seat tokens are refused and their seats ended
    guards_joins(namespace, app[PEOPLE].is_deactivated)
    app[people_api.END_SEATS] = rooms.end_seats_of
    mailer = Mailer(SmtpSettings.from_config(config)) if config.smtp_host else None
    signin.setup(app)
    people_api.setup(app, mailer)
    app.add_routes(cohorts_api.routes)
    app.add_routes(scenarios_api.routes)
    simulations_api.setup(app, lambda room_id, by: rooms.execute(End(room_id, by)))
    ended_rooms = app[ENDED_ROOMS]
    rooms.events.subscribe(RoomChanged, lambda e: ended_rooms(e.room, e.t_ms))
    # practice rounds and availability (issue 15): rounds mail those seated when SMTP is set
    app.add_routes(availability_api.routes)
    app.add_routes(levels_api.routes)
    rounds_api.setup(app, mailer)
    app.add_routes(my_seat.routes)
    app.add_routes(live_api.routes)
    app[live_api.MEDIA] = rooms.media
    if links is not None:
        app[live_api.LINK_READINGS] = links.latest
    # /metrics (web/metrics.py), fed by caucus/metrics.py
    app.add_routes(metrics.routes)
    if node_metrics is not None:
        node_metrics.watch(directory, recordings, sio, bridge.sfu if bridge else None, links)
        app[metrics.METRICS] = node_metrics.access
        app[NODE_METRICS] = node_metrics
        app.cleanup_ctx.append(node_metrics.context)
    pages.add_static(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await upgrade(database)
        # a worker's supervisor recovers for every worker (a worker that starts must not
        # close the segments its siblings are writing)
        for room_id in [] if config.node else await recover_interrupted(catalogue):
            logger.warning(
                "simulation %s was interrupted; its recording plays up to the crash", room_id
            )
        scenarios.load(stored.scenario for stored in await written(database))
        logbook_writer.catch_up()
        yield
        # After the drain (on_shutdown) these find little left to do; without a drain
        # (a test's runner) they still close everything.
        directory.close()
        await rooms.close()
        await rooms.media.close()
        await recordings.close(limit_s=max(0.5, config.drain_s * 0.1))
        if mailer is not None:
            await mailer.close()
        await app[ENDED_ROOMS].settle()
        await logbook_writer.settle()
        await database.close()

    app.cleanup_ctx.append(lifecycle)
    # after lifecycle: a node is live (takes new rooms) once its database is migrated
    app.cleanup_ctx.append(presence_context(config, directory, placement))
    # after lifecycle: runs on the migrated database, stops before it closes
    app[RETENTION] = Retention(database, config.recordings_dir, config.retention_days, directory)
    app.cleanup_ctx.append(app[RETENTION].context)
    app.on_shutdown.append(
        Drain(
            directory,
            sio,
            recordings,
            close_media=rooms.media.close,
            close_signalling=rooms.close,
            drain_s=config.drain_s,
        )
    )
    return app
