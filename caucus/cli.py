"""The `caucus` command: serve, demo, token, render, scenarios, turn-config, db, users."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from caucus.config import Config
from caucus.https import insecure_origin_warning, is_ip, ssl_context
from caucus.serving import first_admin_hint as first_admin_hint  # still importable here
from caucus.serving import freeze_start_up_heap as freeze_start_up_heap
from caucus.serving import serve_one
from caucus.serving import serve_workers_count as serve_workers_count
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.rooms import Room
from sessions.scenarios import ScenarioCatalogue, builtin_scenarios
from signaling.admission import DEFAULT_TTL_S, default_name, join_link, seat_links, seat_token
from storage import scenarios as scenario_store
from storage.catalogue import SimulationRecord, catalogue_at
from storage.database import Database
from storage.faults import StorageUnavailable

T = TypeVar("T")

DEMO_SCENARIO = ScenarioId("boundary-fence")


def _config(args: argparse.Namespace, load_secrets: bool = True) -> Config:
    tls_cert, tls_key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    try:
        return Config.from_env(
            load_secrets=load_secrets,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=Path(args.data_dir) if args.data_dir else None,
            public_url=getattr(args, "public_url", None),
            tls_cert=Path(tls_cert) if tls_cert else None,
            tls_key=Path(tls_key) if tls_key else None,
            workers=getattr(args, "workers", None),
            node=getattr(args, "node", None),
        )
    except ValueError as exc:
        raise SystemExit(f"caucus: {exc}") from None


def _stored(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's database work (migrated first) on a loop of its own."""
    try:
        return asyncio.run(work)
    except StorageUnavailable as exc:
        raise SystemExit(f"caucus: {exc.message}") from None


def _scenarios(config: Config) -> ScenarioCatalogue:
    """The shipped scenarios and those written in the console (from the database)."""

    async def read() -> ScenarioCatalogue:
        database = Database(config.database)
        try:
            return await scenario_store.catalogue(database)
        finally:
            await database.close()

    return asyncio.run(read())


def create_demo(config: Config, scenario_id: ScenarioId, observers: int) -> str:
    """Create a simulation and return the text listing one join link per seat."""
    scenarios = builtin_scenarios()
    if scenario_id not in scenarios:
        raise SystemExit(f"no scenario {scenario_id!r}; choose from {', '.join(scenarios)}")
    scenario = scenarios[scenario_id]

    async def create() -> SimulationRecord:
        async with catalogue_at(config.database) as catalogue:
            return await catalogue.create_simulation(scenario_id, observers)

    record = _stored(create())
    room = Room.create(record.id, scenario, observers)
    links = seat_links(config.secret, config.base_url, record.id, scenario, room.seats)
    lines = [f"Simulation {record.id}: {scenario.title}"]
    lines += [
        f"  {seat:<11} {default_name(scenario, seat):<22} {link}" for seat, link in links.items()
    ]
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> None:
    from caucus.workers import SUPERVISOR_AGENT, default_workers, serve_workers  # serve only
    from media.aiortc_internals.native_parse import rtp_parse
    from media.aiortc_internals.native_send import rtp_send
    from media.aiortc_internals.native_uplink import uplink_estimate

    config = _config(args)
    try:
        # read again later (per sender, at install, per receiver); a bad value stops the start
        rtp_send()
        rtp_parse()
        uplink_estimate()
    except ValueError as exc:
        raise SystemExit(f"caucus: {exc}") from None
    workers = serve_workers_count(config, default_workers())
    if config.node:  # one worker of a supervisor, which said all of the below already
        logging.getLogger("aiohttp.access").addFilter(
            lambda record: SUPERVISOR_AGENT not in record.getMessage()
        )
        serve_one(config, ssl_context(config), hints=config.node == "node-0")
        return
    context = ssl_context(config)
    warning = insecure_origin_warning(config)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if args.demo:
        print(create_demo(config, ScenarioId(args.scenario), args.observers), flush=True)
    print(f"Admin token (Authorization: Bearer …): {config.admin_token}", flush=True)
    if workers > 1:
        try:
            serve_workers(config, workers, context)
        except ValueError as exc:  # CAUCUS_UDP_PORTS too small to share, a bad proxy list
            raise SystemExit(f"caucus: {exc}") from None
        return
    print(f"Caucus serving on {config.base_url} (data in {config.data_dir})", flush=True)
    serve_one(config, context, hints=True)


def cmd_demo(args: argparse.Namespace) -> None:
    print(create_demo(_config(args), ScenarioId(args.scenario), args.observers))


def cmd_token(args: argparse.Namespace) -> None:
    config = _config(args)

    async def find() -> SimulationRecord | None:
        async with catalogue_at(config.database) as catalogue:
            return await catalogue.simulation(args.room)

    record = _stored(find())
    if record is None:
        raise SystemExit(f"no simulation {args.room!r}")
    scenario = _scenarios(config).get(record.scenario_id)
    if scenario is None:
        raise SystemExit(f"simulation {record.id} ran scenario {record.scenario_id!r}, now gone")
    seat = SeatId(args.seat)
    if seat not in Room.create(record.id, scenario, record.observers).seats:
        raise SystemExit(f"simulation {record.id} has no seat {seat!r}")
    name = args.name or default_name(scenario, seat)
    token, _ = seat_token(config.secret, RoomId(record.id), seat, name, args.identity, args.ttl)
    print(join_link(config.base_url, record.id, token) if args.link else token)


def _progress_bar(done: float) -> None:
    filled = round(done * 30)
    print(
        f"\r[{'#' * filled}{' ' * (30 - filled)}] {done:4.0%}", end="", file=sys.stderr, flush=True
    )


def cmd_render(args: argparse.Namespace) -> None:
    """Compose a session's recording into one grid video, offline (decoding is fine here)."""
    from recordings.render import NothingToRender, Plan, output_format, plan_render, render_session

    config = _config(args)
    fmt = args.format or (output_format(Path(args.out)) if args.out else "mp4")
    out = Path(args.out) if args.out else Path(f"{args.session}.{fmt}")

    async def plan() -> Plan:
        async with catalogue_at(config.database) as catalogue:
            if await catalogue.simulation(args.session) is None:
                raise SystemExit(f"no simulation {args.session!r}")
            scenarios = await scenario_store.catalogue(catalogue.database)
            return await plan_render(catalogue, scenarios, RoomId(args.session))

    try:
        # the catalogue is read on an event loop of its own; the render itself is synchronous
        result = render_session(_stored(plan()), out, fmt=fmt, progress=_progress_bar)
    except NothingToRender as exc:
        raise SystemExit(f"\n{exc}") from None
    speed = result.duration_ms / 1000 / max(result.seconds_taken, 1e-9)
    print(
        f"\n{result.path}: {result.duration_ms / 1000:.1f} s of session, {result.frames} frames,"
        f" rendered at {speed:.1f}x real time",
        file=sys.stderr,
    )


def cmd_turn_config(args: argparse.Namespace) -> None:
    from caucus.turn_config import TurnSettings, media_addresses, parse_ports, realm_of, render

    config = _config(args, load_secrets=False)  # coturn needs no join-token secret
    announced = args.external_ip or os.environ.get("CAUCUS_ANNOUNCED_ADDRESS", "")
    if not args.external_ip and announced and not is_ip(announced):
        print(
            f"caucus turn-config: CAUCUS_ANNOUNCED_ADDRESS {announced!r} is a host name;"
            " give coturn its IP with --external-ip",
            file=sys.stderr,
        )
        announced = ""
    try:
        settings = TurnSettings(
            secret=config.turn_secret,
            realm=args.realm or realm_of(config.public_url, "caucus"),
            external_ip=announced,
            listening_ip=args.listening_ip or "",
            port=args.port,
            tls_port=args.tls_port,
            tls_cert=Path(args.turn_cert) if args.turn_cert else config.tls_cert,
            tls_key=Path(args.turn_key) if args.turn_key else config.tls_key,
            relay_ports=parse_ports(args.relay_ports),
            media_addresses=tuple(args.media_address)
            # the public half of PUBLIC/PRIVATE: media announces that one
            or media_addresses(config.ice_addresses, announced.split("/")[0]),
        )
    except ValueError as exc:
        raise SystemExit(f"caucus turn-config: {exc}") from None
    print(render(settings), end="")


def cmd_scenarios(args: argparse.Namespace) -> None:
    for scenario in builtin_scenarios().values():
        print(f"{scenario.id:<18} {scenario.title}")


def cmd_db(args: argparse.Namespace) -> None:
    """`db upgrade` runs the migrations (`serve` runs them too); `db current` only reports."""
    from storage.database import Database, display_url
    from storage.migrate import current, head, upgrade

    config = _config(args, load_secrets=False)
    where = display_url(config.database)

    async def run() -> tuple[str | None, str | None]:
        database = Database(config.database)
        try:
            before = await current(database)
            if args.action == "upgrade":
                await upgrade(database)
            return before, await current(database)
        finally:
            await database.close()

    try:
        before, after = asyncio.run(run())
    except Exception as exc:  # unreachable server, bad URL, a failed migration
        raise SystemExit(f"caucus db {args.action}: {where}: {exc}") from None
    if args.action == "upgrade":
        print(f"{where}: {before or 'unversioned'} -> {after}")
    else:
        print(f"{where}: {after or 'unversioned'} (newest: {head()})")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="caucus", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--data-dir", help="data directory (default ./data or CAUCUS_DATA_DIR)")
        return p

    serve = command("serve", "run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--public-url", help="base of join links, e.g. https://caucus.example")
    serve.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS/WSS itself")
    serve.add_argument("--tls-key", help="PEM private key of --tls-cert")
    serve.add_argument("--demo", action="store_true", help="create a demo simulation first")
    serve.add_argument("--scenario", default=DEMO_SCENARIO)
    serve.add_argument("--observers", type=int, default=1)
    serve.add_argument(
        "--workers",
        type=int,
        help="processes behind the one port (default CAUCUS_WORKERS, else one per core;"
        " 1 = a single process)",
    )
    serve.add_argument("--node", help=argparse.SUPPRESS)  # a worker, started by its supervisor
    serve.set_defaults(run=cmd_serve)

    demo = command("demo", "create a simulation from a shipped scenario; print a link per seat")
    demo.add_argument("--scenario", default=DEMO_SCENARIO)
    demo.add_argument("--observers", type=int, default=1)
    demo.add_argument("--public-url")
    demo.set_defaults(run=cmd_demo)

    token = command("token", "issue a join token for one seat of a simulation")
    token.add_argument("room")
    token.add_argument("seat")
    token.add_argument("--name")
    token.add_argument("--identity")
    token.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="seconds (default 7 days)")
    token.add_argument("--link", action="store_true", help="print a join link, not the token")
    token.add_argument("--public-url")
    token.set_defaults(run=cmd_token)

    render = command("render", "compose a session's recording into one grid video (offline)")
    render.add_argument("session", help="the simulation id")
    render.add_argument("--out", help="output file (default SESSION.mp4)")
    render.add_argument("--format", choices=["mp4", "webm"], help="default: from --out, or mp4")
    render.set_defaults(run=cmd_render)

    turn = command("turn-config", "print a coturn configuration matched to this server")
    turn.add_argument("--realm", help="default: the host of CAUCUS_PUBLIC_URL")
    turn.add_argument(
        "--external-ip", help="public[/private] address (default CAUCUS_ANNOUNCED_ADDRESS)"
    )
    turn.add_argument("--listening-ip", help="bind coturn to this address only")
    turn.add_argument("--port", type=int, default=3478, help="TURN over UDP and TCP")
    turn.add_argument(
        "--tls-port", type=int, default=5349, help="TURN over TLS (443 on its own IP)"
    )
    turn.add_argument("--turn-cert", help="PEM certificate for TLS (default CAUCUS_TLS_CERT)")
    turn.add_argument("--turn-key", help="PEM key for TLS (default CAUCUS_TLS_KEY)")
    turn.add_argument("--relay-ports", default="49152-49999", help="coturn's relay port range")
    turn.add_argument(
        "--media-address",
        action="append",
        default=[],
        help="the media server's address, allowed as a peer although private (repeatable;"
        " default: CAUCUS_ICE_ADDRESSES and the announced address)",
    )
    turn.add_argument("--public-url")
    turn.set_defaults(run=cmd_turn_config)

    db = command("db", "the database: `upgrade` runs its migrations, `current` shows its revision")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(run=cmd_db)

    scenarios = command("scenarios", "list the shipped scenarios")
    scenarios.set_defaults(run=cmd_scenarios)

    # people who sign in (caucus/users.py): `users add EMAIL --role admin` makes the first admin
    from caucus.users import add_user_commands

    add_user_commands(command("users", "add people (prints an invitation link), list them"))
    return top


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if getattr(args, "workers", None) is not None and args.workers < 1:
        raise SystemExit("caucus: --workers is a number of processes, 1 or more")
    worker = f"[{args.node}] " if getattr(args, "node", None) else ""
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s {worker}%(name)s: %(message)s",
        stream=sys.stderr,
    )
    args.run(args)
