"""The composition root: one function builds the whole server from a Config."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import socketio
from aiohttp import web

from caucus.config import Config
from caucus.media_bridge import SfuMedia
from media import aiortc_internals
from media.announce import announced_address, parse_port_range
from media.link_stats import LinkWatch
from media.sfu import SfuConfig
from recordings.annotation_store import AnnotationStore
from recordings.catalogue import Catalogue
from recordings.feedback import Feedback
from recordings.recovery import recover_interrupted
from recordings.service import Recordings
from sessions.scenarios import builtin_scenarios
from signaling.directory import RoomDirectory
from signaling.media_port import MediaPort, NoMedia
from signaling.namespace import SimulationNamespace
from signaling.protocol import MAX_PACKET_BYTES
from signaling.turn import IceServerPolicy
from signaling.wire import GuardedServer, LibraryLog
from web import annotations_api, api, pages, recordings_api
from web.errors import errors_as_json, quiet_client_http_errors
from web.forwarded import forwarded_headers, parse_networks
from web.keys import (
    ADMIN_TOKEN,
    CATALOGUE,
    DIRECTORY,
    FEEDBACK,
    PUBLIC_URL,
    RECORDINGS_DIR,
    SCENARIOS,
    SECRET,
)
from web.security import add_security_headers, origin_policy

logger = logging.getLogger(__name__)

NAMESPACE = web.AppKey("namespace", SimulationNamespace)
SOCKETS = web.AppKey("sockets", socketio.AsyncServer)
RECORDINGS = web.AppKey("recordings", Recordings)
MAX_BODY_BYTES = 64 * 1024


def socket_server(config: Config) -> socketio.AsyncServer:
    manager = socketio.AsyncRedisManager(config.redis_url) if config.redis_url else None
    origins = [config.base_url, *config.allowed_origins.split(",")]
    return GuardedServer(
        async_mode="aiohttp",
        client_manager=manager,
        # Long, lossy international links: engine.io's defaults or longer, so a
        # 500 ms RTT never reads as a dead connection.
        ping_interval=config.ping_interval_s,
        ping_timeout=config.ping_timeout_s,
        max_http_buffer_size=MAX_PACKET_BYTES,
        cors_allowed_origins=origin_policy(origins),
        logger=LibraryLog("signaling.wire.socketio"),
        engineio_logger=LibraryLog("signaling.wire.engineio"),
    )


def create_app(config: Config, media: MediaPort | None = None) -> web.Application:
    config = config.with_secrets()
    # settings a person typed: refused (ValueError) before anything is opened
    proxies = parse_networks(config.trusted_proxies)
    ice = IceServerPolicy.from_settings(config.stun_url, config.turn_urls, config.turn_secret)
    quiet_client_http_errors()
    # the forwarded scheme first, so HSTS and the origin check see it
    forwarded = [forwarded_headers(proxies)] if proxies else []
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[*forwarded, add_security_headers, errors_as_json],
    )
    catalogue = Catalogue(config.database_path)
    for room_id in recover_interrupted(catalogue):
        logger.warning(
            "simulation %s was interrupted; its recording plays up to the crash", room_id
        )
    scenarios = builtin_scenarios()
    feedback = Feedback(AnnotationStore(config.database_path), catalogue, scenarios)
    directory = RoomDirectory(catalogue, scenarios)
    recordings = Recordings(catalogue, config.recordings_dir, directory.session_ms)
    directory.observers.append(recordings.room_changed)
    bridge: SfuMedia | None = None
    if media is None and config.media:
        addresses = [a.strip() for a in config.ice_addresses.split(",") if a.strip()]
        sfu_config = SfuConfig(
            ice_host_addresses=addresses or None,
            announced_address=announced_address(
                config.announced_address, config.stun_url, addresses
            ),
            udp_ports=parse_port_range(config.udp_ports),
        )
        # aiortc's process-wide patches, applied once, here (idempotent)
        aiortc_internals.install(rtp_history_size=sfu_config.rtp_history_size)
        links = LinkWatch(directory.session_ms, catalogue.append_event)
        media = bridge = SfuMedia(sfu_config, recordings, links=links)
    namespace = SimulationNamespace(
        directory, config.secret, media or NoMedia(), config.grace_s, feedback, ice
    )
    if bridge is not None:
        bridge.attach(namespace.send_to_seat, namespace.media_changed)
    sio = socket_server(config)
    sio.register_namespace(namespace)
    sio.attach(app)

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
    app[SOCKETS] = sio
    app.add_routes(pages.routes)
    app.add_routes(api.routes)
    app.add_routes(annotations_api.routes)
    app.add_routes(recordings_api.routes)
    pages.add_static(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        yield
        await namespace.close()
        await namespace.media.close()
        recordings.close()
        feedback.store.close()
        catalogue.close()

    async def disconnect_sockets(app: web.Application) -> None:
        for live in directory.rooms():
            for sid in list(live.sockets.values()):
                await sio.disconnect(sid)

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(disconnect_sockets)
    return app
