"""``carecoord key init | export | import | revoke | list``: the team key and the team's laptops
(DESIGN.md §5 Keys)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.cli.common import add_handler, echo, passphrase_from_env_or_prompt
from app.context import AppContext
from app.core.errors import KeyError_, StorageError, ValidationError
from app.core.paths import PASSPHRASE_ENV
from app.core.timeutil import to_local
from app.services.sync import (
    DeviceView,
    export_key,
    import_key,
    init_team_key,
    list_devices,
    revoke_device,
)

_WHEN = "%a %d %b %Y %H:%M"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this group's commands to the ``carecoord`` parser."""
    p = sub.add_parser("key", help="team key handling: start, hand over, join, revoke")
    ksub = p.add_subparsers(dest="key_command", metavar="ACTION", required=True)

    init = ksub.add_parser("init", help="start a team: a new team key and this laptop's key")
    init.add_argument("--label", metavar="NAME", help="how this laptop is named to the team")
    add_handler(init, _init)

    export = ksub.add_parser(
        "export", help="write the team key and its laptops to a passphrase-protected file"
    )
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    add_handler(export, _export)

    imp = ksub.add_parser("import", help="join a team from a key file a colleague gave you")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--label", metavar="NAME", help="how this laptop is named to the team")
    add_handler(imp, _import)

    revoke = ksub.add_parser(
        "revoke", help="revoke a laptop of the team (team leads): its bundles are refused"
    )
    revoke.add_argument("device_id", metavar="DEVICE_ID", help="the laptop's id (or its start)")
    revoke.add_argument("--reason", metavar="TEXT", help="why, e.g. 'laptop lost'")
    add_handler(revoke, _revoke)

    listing = ksub.add_parser("list", help="the team's laptops, their fingerprints and status")
    add_handler(listing, _list)


def new_passphrase(what: str) -> str:
    """``CARECOORD_PASSPHRASE`` when set, otherwise asked twice on the terminal."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise KeyError_(
            f"A passphrase is needed to protect {what}: set {PASSPHRASE_ENV} "
            "or run the command in a terminal."
        )
    first = getpass.getpass(f"Choose a passphrase to protect {what}: ")
    if getpass.getpass("Type the passphrase again: ") != first:
        raise ValidationError("The two passphrases differ; nothing was written.")
    return first


def _init(args: argparse.Namespace, ctx: AppContext) -> int:
    info = init_team_key(ctx, label=args.label)
    echo(f"Team key created (team {info.team_id[:8]}, epoch {info.epoch}).")
    echo(f"This laptop: {info.device_label}, fingerprint {info.fingerprint}.")
    echo("Give the key to colleagues with 'carecoord key export --out FILE'.")
    return 0


def _export(args: argparse.Namespace, ctx: AppContext) -> int:
    out: Path = args.out
    if out.exists():  # said before asking for a passphrase
        raise StorageError(f"The file {out.name} already exists; choose a new name for the key.")
    passphrase = new_passphrase(f"the key file {out.name}")
    result = export_key(ctx, out, passphrase)
    echo(
        f"Team key (epoch {result.epoch}) and {result.members} laptop(s) written to {result.path}."
    )
    echo("Hand it over in person and tell the passphrase separately.")
    return 0


def _import(args: argparse.Namespace, ctx: AppContext) -> int:
    passphrase = passphrase_from_env_or_prompt(f"Passphrase of {args.file.name}: ")
    info = import_key(ctx, args.file, passphrase, label=args.label)
    echo(
        f"Joined team {info.team_id[:8]} (key epoch {info.epoch}); "
        f"the key file lists {info.members_listed} laptop(s)."
    )
    echo(f"This laptop: {info.device_label}, fingerprint {info.fingerprint}.")
    echo("Its first bundle enrols it with the others.")
    return 0


def _revoke(args: argparse.Namespace, ctx: AppContext) -> int:
    device = revoke_device(ctx, args.device_id, args.reason)
    echo(f"Revoked {device.label} ({device.device_id}).")
    echo("Export a bundle so the revocation reaches the team; its later bundles are refused.")
    return 0


def device_line(d: DeviceView) -> str:
    status = "active"
    if d.revoked:
        status = "revoked"
        if d.revoked_at is not None:
            status += " " + to_local(d.revoked_at).strftime(_WHEN)
    if d.revoked and d.revoked_reason:
        status += f" ({d.revoked_reason})"
    me = "  (this laptop)" if d.this_laptop else ""
    return f"{d.device_id}  {d.label}  {d.fingerprint}  {status}{me}"


def _list(args: argparse.Namespace, ctx: AppContext) -> int:
    with ctx.db.read() as session:
        devices = list_devices(session)
    if not devices:
        echo("No laptops are enrolled yet: run 'carecoord key init' or 'carecoord key import'.")
        return 0
    for d in devices:
        echo(device_line(d))
    return 0
