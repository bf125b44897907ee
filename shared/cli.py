"""The ``gotong`` command: dev, serve, migrate, token, demo, events, dead-letters, projections, image."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from shared.auth import CLAIMABLE_ROLES, Role, TokenAuthority
from shared.config import Settings, SettingsError
from shared.logs import configure_logging

SERVERS_FILE = "servers.json"
SECRET_FILE = "jwt-secret"
IMAGE = "ghcr.io/gotong/gotong"
"""The one container image of every service; its tag is the package version (see `gotong image`)."""


def _secret(settings: Settings, *, create: bool) -> Settings:
    """Use GOTONG_JWT_SECRET, or the development secret kept in the data directory."""
    if settings.jwt_secret or settings.jwt_public_key:
        return settings
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        if not create:
            raise SettingsError(f"set GOTONG_JWT_SECRET (or run `gotong dev` once to create {path})")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return replace(settings, jwt_secret=path.read_text().strip())


def _joined(settings: Settings) -> Settings:
    """Settings with server URLs: from GOTONG_* or from the servers a running `gotong dev` wrote down."""
    if settings.database_url and settings.nats_url:
        return settings
    path = settings.data_dir / SERVERS_FILE
    if not path.exists():
        raise SettingsError(
            "no servers: set GOTONG_DATABASE_URL and GOTONG_NATS_URL, or start `gotong dev` in this directory first"
        )
    servers = json.loads(path.read_text())
    return replace(
        settings,
        database_url=settings.database_url or servers["database_url"],
        nats_url=settings.nats_url or servers["nats_url"],
    )


def _check_settings(settings: Settings, service_names: Sequence[str] | None) -> None:
    """Each service's own settings, read before anything starts: a bad one is a SettingsError (exit 2)."""
    from shared.service import load_services

    for service in load_services(service_names):
        if service.check_settings is not None:
            service.check_settings(settings)


KEEP_ALIVE = 75
"""Seconds an idle client connection stays open. Longer than the 60 s that proxies and load balancers keep theirs
(nginx's upstream keepalive, cloud load balancers), so the server never closes a connection just as a client sends
on it: with uvicorn's 5 s, a request sent at that moment was cut off with a reset instead of answered."""


def _serve(settings: Settings, service_names: Sequence[str] | None) -> None:
    import uvicorn

    from shared import tracing
    from shared.http import create_app
    from shared.service import load_services

    services = load_services(service_names)
    traces = tracing.configure([s.name for s in services])  # off unless OTEL_* names an exporter
    app = create_app(settings, services, documented=load_services())  # /schema: the whole API, as behind the proxy
    names = ", ".join(s.name for s in services) or "no services"
    print(f"gotong: serving {names} on http://{settings.host}:{settings.port} (docs at /schema)", file=sys.stderr)
    if settings.rate_limit:
        limits = (settings.rate_per_principal, settings.rate_per_address, settings.rate_failed_auth)
        shown = ", ".join(str(rate or "off") for rate in limits)
        print(f"gotong: rate limits per caller, per address, failed sign-ins per address: {shown}", file=sys.stderr)
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            timeout_graceful_shutdown=5,
            timeout_keep_alive=KEEP_ALIVE,
            forwarded_allow_ips=settings.trusted_proxies,  # the client address the rate limits count by
        )
    finally:
        if traces is not None:
            traces.shutdown()  # sends the spans still waiting in the batch


def _exit_on_stop_signals() -> None:
    """Turn SIGTERM and SIGINT into SystemExit, so that `gotong dev` stops its servers on the way out.

    uvicorn handles both while it serves and raises the signal again once it has shut down; SIGTERM's
    default action would end the process there and leave PostgreSQL, NATS and servers.json behind.
    Later signals are ignored, so that a second Ctrl-C cannot cut the stopping short.
    """
    stopping = False

    def stop(number: int, _: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise SystemExit(128 + number)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    """Start embedded PostgreSQL and NATS (unless configured), migrate, serve every service, stop on Ctrl-C
    or SIGTERM; refuse if another `gotong dev` runs on the same data directory."""
    from shared.dev.servers import DataDirInUse, DevServers

    _check_settings(settings, None)
    _exit_on_stop_signals()
    try:
        with DevServers(settings, nats_nodes=args.nats_nodes) as servers:
            settings = _secret(servers.settings, create=True)
            print(f"gotong: PostgreSQL {settings.database_url}", file=sys.stderr)
            print(f"gotong: NATS {settings.nats_url}", file=sys.stderr)
            _serve(settings, None)
    except DataDirInUse as error:
        print(f"gotong: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    _check_settings(settings, args.services or None)
    settings = _secret(_joined(settings), create=False)
    if settings.rate_limit is None:  # production: limited unless GOTONG_RATE_LIMIT=off
        settings = replace(settings, rate_limit=True)
    _serve(settings, args.services or None)
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from shared.dev.servers import migrate_all

    settings = _joined(settings)
    if args.wait:
        return _wait_for_migrations(settings, args.services or None, args.timeout)
    applied = asyncio.run(migrate_all(settings, args.services or None))
    for schema, names in applied.items():
        print(f"{schema}: {', '.join(names) if names else 'up to date'}")
    return 0


def _wait_for_migrations(settings: Settings, names: Sequence[str] | None, timeout: float) -> int:
    """`gotong migrate --wait`: an init container's wait for the migration Job, changing nothing itself."""
    from shared.migrations import wait_until_migrated
    from shared.service import load_services

    assert settings.database_url
    schemas = [(s.name, s.migrations) for s in load_services(names)]
    missing = asyncio.run(wait_until_migrated(settings.database_url, schemas, timeout=timeout))
    if missing:
        print(f"gotong: not migrated after {timeout:g} s: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{', '.join(name for name, _ in schemas)}: up to date")
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    settings = _secret(settings, create=False)
    tokens = TokenAuthority.from_settings(settings)
    print(tokens.issue(sub=args.sub, role=Role(args.role), org=args.org, lifetime=timedelta(hours=args.hours)))
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from demo.run import main as demo

    settings = _secret(settings, create=False)
    return demo(args.url, TokenAuthority.from_settings(settings), args.msmes, whatsapp_url=args.whatsapp_url)


def cmd_events_schema(settings: Settings, args: argparse.Namespace) -> int:
    from events.schema import write_documents

    for path in write_documents(Path(args.output)):
        print(path)
    return 0


def cmd_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from shared.operations import list_dead_letters, replay_dead_letter

    settings = _joined(settings)
    if args.action == "list":
        for letter in asyncio.run(list_dead_letters(settings, args.service)):
            print(json.dumps(letter, default=str))
        return 0
    if args.id is None:
        raise SettingsError("replay needs the dead letter's id")
    done, outcome = asyncio.run(replay_dead_letter(settings, args.service, args.id))
    print(outcome)
    return 0 if done else 1


def cmd_projections(settings: Settings, args: argparse.Namespace) -> int:
    from shared.operations import rebuild_projection

    settings = _joined(settings)
    report = asyncio.run(rebuild_projection(settings, args.service, args.projection, verify_only=args.verify))
    print(report)
    return 0 if report.matches or not args.verify else 1


def image_reference() -> tuple[str, str]:
    """The image's name and tag: the release workflow pushes it, the Kubernetes overlays deploy it."""
    from importlib.metadata import version

    return IMAGE, version("gotong")


def cmd_image(settings: Settings, args: argparse.Namespace) -> int:
    name, tag = image_reference()
    print({"name": name, "tag": tag}.get(args.part, f"{name}:{tag}"))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gotong", description="Gotong: pooled export orders from many MSMEs.")
    commands = root.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run everything locally with embedded PostgreSQL and NATS")
    dev.add_argument("--port", type=int, help="HTTP port (default 8000 or GOTONG_PORT)")
    dev.add_argument("--data-dir", help="where embedded servers keep data (default ./.gotong)")
    dev.add_argument(
        "--nats-nodes",
        type=int,
        default=1,
        choices=[1, 3, 5],
        help="run the embedded NATS as a cluster of this many nodes on loopback (streams get 3 replicas)",
    )
    dev.set_defaults(run=cmd_dev)

    serve = commands.add_parser("serve", help="serve some services (their routes, relay, consumers)")
    serve.add_argument("services", nargs="*", help="catalog, orders, pooling, quality (default: all)")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="create or update the services' schemas")
    migrate.add_argument("services", nargs="*")
    migrate.add_argument("--wait", action="store_true", help="change nothing: wait until another run has migrated")
    migrate.add_argument("--timeout", type=float, default=300.0, help="seconds --wait waits (default %(default)s)")
    migrate.add_argument("--data-dir")
    migrate.set_defaults(run=cmd_migrate)

    token = commands.add_parser("token", help="print a bearer token for development and tests")
    token.add_argument("--role", required=True, choices=[r.value for r in Role if r in CLAIMABLE_ROLES])
    token.add_argument("--org", required=True)
    token.add_argument("--sub", required=True)
    token.add_argument("--hours", type=float, default=12.0)
    token.add_argument("--data-dir")
    token.set_defaults(run=cmd_token)

    demo = commands.add_parser("demo", help="seed a marketplace and run one bulk order from request to shipment")
    demo.add_argument("--url", default="http://127.0.0.1:8000", help="a running Gotong (default %(default)s)")
    demo.add_argument("--msmes", type=int, default=300, help="how many MSMEs to register (default %(default)s)")
    demo.add_argument("--data-dir", help="where `gotong dev` keeps the development token secret (default ./.gotong)")
    demo.add_argument(
        "--whatsapp-url",
        help="serve a stand-in WhatsApp Graph API at this http://host:port for the run and print the messages it "
        "receives (start Gotong with GOTONG_WHATSAPP_API_URL=<it>/v21.0 and the other GOTONG_WHATSAPP_* set)",
    )
    demo.set_defaults(run=cmd_demo)

    events = commands.add_parser("events", help="the event contract")
    events_commands = events.add_subparsers(dest="events_command", required=True)
    schema = events_commands.add_parser("schema", help="write the JSON Schema and AsyncAPI documents of all events")
    schema.add_argument("--output", default="events/schema", help="directory (default events/schema)")
    schema.set_defaults(run=cmd_events_schema)

    dead = commands.add_parser(
        "dead-letters", help="show and replay events no handler could take or no projection could apply"
    )
    dead.add_argument("action", choices=["list", "replay"])
    dead.add_argument("id", nargs="?", type=int)
    dead.add_argument("--service", required=True)
    dead.add_argument("--data-dir")
    dead.set_defaults(run=cmd_dead_letters)

    projections = commands.add_parser("projections", help="rebuild read models from the events")
    projection_commands = projections.add_subparsers(dest="projections_command", required=True)
    rebuild = projection_commands.add_parser("rebuild", help="rebuild into a new table and swap it in")
    rebuild.add_argument("service")
    rebuild.add_argument("projection")
    rebuild.add_argument("--verify", action="store_true", help="only compare rebuilt rows with the live ones")
    rebuild.add_argument("--data-dir")
    rebuild.set_defaults(run=cmd_projections)

    image = commands.add_parser("image", help="print the container image this version is released as")
    image.add_argument("--part", choices=["reference", "name", "tag"], default="reference")
    image.set_defaults(run=cmd_image)

    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if getattr(args, "data_dir", None):
            settings = replace(settings, data_dir=Path(args.data_dir))
        if getattr(args, "port", None):
            settings = replace(settings, port=args.port)
        configure_logging(settings.log_level, as_json=settings.log_json)
        code: int = args.run(settings, args)
        return code
    except (SettingsError, LookupError) as error:
        print(f"gotong: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
