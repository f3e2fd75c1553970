"""`caucus users add|list|reset`: people from the command line (the first admin).

On a fresh install nobody can sign in to invite anybody, so `caucus users add
EMAIL --role admin` creates the first admin and prints their invitation link
(on stdout alone, so a script can capture it; the explanation goes to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from caucus.config import Config
from sessions import profiles
from sessions.errors import DomainError
from sessions.people import Role
from storage import audit
from storage.database import Database
from storage.invitations import Invitation, Invitations
from storage.migrate import upgrade
from storage.people import People
from web.people_api import invitation_link


def _config(args: argparse.Namespace) -> Config:
    try:
        return Config.from_env(
            data_dir=Path(args.data_dir) if args.data_dir else None,
            public_url=getattr(args, "public_url", None),
        )
    except ValueError as exc:
        raise SystemExit(f"caucus: {exc}") from None


async def _open(config: Config) -> People:
    database = Database(config.database)
    await upgrade(database)  # a fresh install has no tables yet
    return People(database)


def _hand_out(config: Config, invitation: Invitation, what: str) -> None:
    person = invitation.person
    expires = datetime.fromtimestamp(invitation.expires_ms / 1000, UTC)
    print(
        f"{what} {person.name} <{person.email}> ({person.role.value}). Send them this link;"
        f" it works once, until {expires:%Y-%m-%d %H:%M} UTC:",
        file=sys.stderr,
    )
    print(invitation_link(config.base_url, invitation.token), flush=True)


async def _add(args: argparse.Namespace) -> None:
    config = _config(args)
    try:
        email = profiles.email(args.email)
        name = profiles.name(args.name or email.split("@")[0])
        role = profiles.role(args.role)
        time_zone = profiles.time_zone(args.time_zone)
    except DomainError as exc:
        raise SystemExit(f"caucus users add: {exc.message}") from None
    people = await _open(config)
    try:
        invitation = await Invitations(people).invite(email, name, role, time_zone, audit.CLI)
    except DomainError as exc:
        hint = (
            " (`caucus users reset EMAIL` prints a new link)" if exc.code == "email_taken" else ""
        )
        raise SystemExit(f"caucus users add: {exc.message}{hint}") from None
    finally:
        await people.db.close()
    _hand_out(config, invitation, "Invited")


async def _reset(args: argparse.Namespace) -> None:
    config = _config(args)
    people = await _open(config)
    try:
        person = await people.by_email(args.email)
        if person is None:
            raise SystemExit(f"caucus users reset: nobody has the address {args.email!r}")
        if not person.active:
            await people.reactivate(person.id, audit.CLI)
        invitation = await Invitations(people).reset(person.id, audit.CLI)
    finally:
        await people.db.close()
    _hand_out(config, invitation, "Reset the password of")


async def _list(args: argparse.Namespace) -> None:
    people = await _open(_config(args))
    try:
        accounts = await people.accounts()
    finally:
        await people.db.close()
    for account in accounts:
        p = account.person
        status = "active" if account.has_password else "invited"
        if not p.active:
            status = "deactivated"
        print(f"{p.email:<32} {p.name:<24} {p.role.value:<8} {p.time_zone:<20} {status}")


Run = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]


def add_user_commands(users: argparse.ArgumentParser) -> None:
    sub = users.add_subparsers(dest="users_command", required=True)

    def command(name: str, help_: str, run: Run) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        # SUPPRESS: `users --data-dir X add …` and `users add … --data-dir X` both work
        p.add_argument("--data-dir", default=argparse.SUPPRESS, help="data directory")
        p.set_defaults(run=lambda args: asyncio.run(run(args)))
        return p

    add = command("add", "add a person and print their invitation link", _add)
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", help="display name (default: the address's local part)")
    add.add_argument("--time-zone", default="UTC", help="IANA name, e.g. Africa/Nairobi")
    add.add_argument("--public-url", help="base of the link (default CAUCUS_PUBLIC_URL)")
    reset = command("reset", "print a new link to set the password (reactivates them)", _reset)
    reset.add_argument("email")
    reset.add_argument("--public-url", help="base of the link (default CAUCUS_PUBLIC_URL)")
    command("list", "list everyone who may sign in", _list)
