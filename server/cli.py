"""The `xietong` command (API.md): run, migrate, demo, user, token, worker, job, verify,
backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from server.settings import Settings, get_settings, reset_settings

T = TypeVar("T")


class CommandError(Exception):
    """A bad input: printed as one line, exit status 2."""


def _run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    import server.domains  # noqa: F401  (every domain's event handlers)
    from server.db import close_db, init_db

    async def wrapped() -> T:
        await init_db(settings)
        try:
            return await work()
        finally:
            await close_db()

    return asyncio.run(wrapped())


def _ensure_redis(settings: Settings) -> tuple[Settings, Any]:
    """Reuse or start the data folder's Redis when REDIS_URL is unset (ARCHITECTURE rule 10)."""
    if settings.redis_url:
        return settings, None
    from server.redis_embedded import EmbeddedRedis

    embedded = EmbeddedRedis(settings.data_dir)
    url = embedded.start()
    os.environ["REDIS_URL"] = url
    reset_settings()
    return dataclasses.replace(settings, redis_url=url), embedded


# --- commands -------------------------------------------------------------------------------


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import migrate, migration_names
    from server.planning.company_calendar import seed_company_calendar

    if args.to:
        if args.to not in migration_names():
            raise CommandError(
                f"no migration {args.to!r}; this release has {migration_names()[-1]}"
            )
        try:
            asyncio.run(migrate(settings, upto=args.to))
        except ValueError as error:
            raise CommandError(f"cannot migrate to {args.to}: {error}") from error
        print(f"database migrated up to {args.to} ({_safe_url(settings.database_url)})")
        return
    asyncio.run(migrate(settings))
    seeded = _run_with_db(settings, seed_company_calendar)
    print(f"database is up to date ({_safe_url(settings.database_url)})")
    if seeded:
        print(f"company calendar: {seeded} holiday and adjusted working days loaded")


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    from server.demo import DEMO_PASSWORD, load_demo

    result = _run_with_db(settings, load_demo)
    if not result.loaded:
        print("the database already has data; the demo was not loaded and nothing changed")
        return
    print(f"demo company loaded; log in with any of these (password: {DEMO_PASSWORD}):")
    for login, who in result.logins:
        print(f"  {login:28} {who}")


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> None:
    from server.auth import Actor
    from server.org import service as org

    async def work() -> str:
        user = await org.create_user(
            Actor.system(),
            name=args.name,
            email=args.email,
            department_name=args.department,
            password=args.password,
            is_admin=args.admin,
        )
        return f"created user {user.email} ({user.name}) id {user.id}"

    print(_run_with_db(settings, work))


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> None:
    from server.auth import Actor
    from server.org import service as org
    from server.org.models import User

    async def work() -> tuple[str, str]:
        user = await User.get_or_none(email=args.email.strip().lower(), is_active=True)
        if user is None:
            raise CommandError(f"no active user with email {args.email}")
        issued = await org.create_api_token(
            Actor.for_user(user, "en"),
            name=args.name,
            expires_days=args.expires_days,
            project_codes=args.project or [],
            read_only=args.read_only,
        )
        return user.email or "", issued.secret

    email, secret = _run_with_db(settings, work)
    print(f"API token for {email} (shown once; send it as 'Authorization: Bearer <token>'):")
    print(secret)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from server import logs

    logs.configure()
    settings, embedded = _ensure_redis(settings)
    from workers.settings import build_worker, run_worker

    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = build_worker(settings)
    try:
        run_worker(worker)
    finally:
        if embedded is not None:
            embedded.stop()


def cmd_job_list(settings: Settings, args: argparse.Namespace) -> None:
    from workers.jobs import DESCRIPTIONS, JOBS

    for name in JOBS:
        print(f"{name:20} {DESCRIPTIONS[name]}")


def cmd_job_run(settings: Settings, args: argparse.Namespace) -> None:
    from workers.jobs import JOBS

    job = JOBS.get(args.name)
    if job is None:
        raise CommandError(f"unknown job {args.name!r}; known: {', '.join(JOBS)}")
    print(_run_with_db(settings, lambda: job(settings, args.project)))


def cmd_verify(settings: Settings, args: argparse.Namespace) -> None:
    """Re-check every signed document; exit non-zero when any was altered."""
    from server.auth import Actor
    from server.signoffs.integrity import alert_integrity_findings, verify_all_documents

    async def work() -> list[str]:
        report = await verify_all_documents(Actor.system())
        await alert_integrity_findings(report.findings)
        lines = [
            f"{f.project.code} {f.document.kind.value} (document {f.document.id}): "
            f"altered versions {sorted(f.altered_versions) or '-'}, "
            f"{f.broken_signatures} signature(s) fail to verify"
            for f in report.findings
        ]
        lines.append(
            f"verify: {report.documents} documents, {report.signatures} signatures, "
            f"{len(report.findings)} with an integrity failure"
        )
        return lines

    lines = _run_with_db(settings, work)
    print("\n".join(lines))
    if len(lines) > 1:
        raise CommandError("integrity check failed; the administrators were told by email")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    """A consistent copy while the server runs: database, attachments, key, manifest."""
    from server.operations.backup import BackupError, describe, make_backup

    try:
        manifest = asyncio.run(make_backup(settings, Path(args.file)))
    except BackupError as error:
        raise CommandError(str(error)) from error
    figures = describe(manifest)
    print(
        f"backup: {args.file} ({figures['engine']}, {figures['tables']} tables, "
        f"{figures['rows']} rows, {figures['files']} files checked)"
    )
    for note in manifest.notes:
        print(f"note: {note}")


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    """Into an empty data folder and database (or over one, with --force), checked against
    the manifest's rows; stop the servers first."""
    from server.operations.backup import BackupError, describe, restore_backup

    try:
        manifest = asyncio.run(restore_backup(settings, Path(args.file), force=args.force))
    except BackupError as error:
        raise CommandError(str(error)) from error
    figures = describe(manifest)
    print(
        f"restore: {figures['rows']} rows in {figures['tables']} tables, as the manifest "
        f"of {manifest.made_at} says; run `xietong migrate`, then `xietong verify`"
    )


def cmd_copy_data(settings: Settings, args: argparse.Namespace) -> None:
    """A laptop trial (SQLite) into the migrated, empty database of DATABASE_URL."""
    from server.operations.copy_data import CopyError, copy_data

    try:
        copied = asyncio.run(copy_data(args.source, settings.database_url))
    except CopyError as error:
        raise CommandError(str(error)) from error
    rows = sum(copied.tables.values())
    target = _safe_url(settings.database_url)
    print(f"copy-data: {rows} rows in {len(copied.tables)} tables into {target}")


def cmd_plan_export(settings: Settings, args: argparse.Namespace) -> None:
    """The plan as MS Project XML (MSPDI) on standard output."""
    from server.auth import Actor
    from server.errors import NotFound
    from server.planning import mspdi
    from server.planning.queries import plan_view
    from server.projects.service import get_project

    async def work() -> bytes:
        try:
            project = await get_project(Actor.system(), code=args.code)
        except NotFound as error:
            raise CommandError(f"no project {args.code!r}") from error
        view = await plan_view(project)
        return mspdi.plan_xml(project, view.rows, view.calendar)

    sys.stdout.buffer.write(_run_with_db(settings, work))
    sys.stdout.flush()


def cmd_plan_import(settings: Settings, args: argparse.Namespace) -> None:
    """Preview an MS Project XML file or a WBS workbook for a project; with --confirm,
    import it."""
    from server.auth import Actor
    from server.errors import NotFound
    from server.planning import imports
    from server.projects.service import get_project

    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror}") from error

    async def work() -> list[str]:
        try:
            project = await get_project(Actor.system(), code=args.code)
        except NotFound as error:
            raise CommandError(f"no project {args.code!r}") from error
        preview = await imports.preview_plan_import(
            Actor.system(), project_id=project.id, data=data
        )
        lines = imports.describe_preview(preview)
        if preview.errors or not args.confirm:
            return lines
        result = await imports.import_plan(
            Actor.system(), project_id=project.id, data=data, content_hash=preview.content_hash
        )
        lines.append(f"imported {preview.counts.tasks} tasks into {project.code}")
        lines += [
            f"differs: {d.task}: {d.field} file {d.theirs}, ours {d.ours}"
            for d in result.differences
        ]
        return lines

    lines = _run_with_db(settings, work)
    print("\n".join(lines))
    if any(line.startswith("error:") for line in lines):
        raise CommandError("the file has errors; nothing was imported")


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    """Migrate, load the demo on first start, then serve web + worker until Ctrl-C."""
    from server.db import migrate
    from server.demo import DEMO_PASSWORD, load_demo
    from server.planning.company_calendar import seed_company_calendar

    asyncio.run(migrate(settings))
    _run_with_db(settings, seed_company_calendar)
    demo = _run_with_db(settings, load_demo)
    settings, embedded = _ensure_redis(settings)
    from server.metrics import prepare_shared_folder

    # The web processes and the worker started here add up their counters for /metrics.
    prepare_shared_folder(settings.data_dir)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        children.append(_start_web(args))
        children.append(subprocess.Popen([sys.executable, "-m", "server.cli", "worker"]))  # noqa: S603
        url = f"http://{args.host}:{args.port}"
        print(f"Xietong is running at {url}  (Ctrl-C stops it)")
        if demo.loaded:
            print(f"demo logins (password: {DEMO_PASSWORD}):")
            for login, who in demo.logins:
                print(f"  {login:28} {who}")
        elif settings.is_sqlite:
            print(f"demo logins use the password {DEMO_PASSWORD} (e.g. wangfang@example.com)")
        sys.stdout.flush()
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        _stop_children(children)
        if embedded is not None:
            embedded.stop()
    failed = [child.returncode for child in children if child.returncode not in (0, -2, -15)]
    if failed and not stopping:
        raise CommandError("a server process stopped unexpectedly; see the output above")


def _start_web(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "server.web", "--host", args.host, "--port", str(args.port)]
    command += ["--workers", str(args.workers), "--proxy-headers"]
    return subprocess.Popen(command)  # noqa: S603 - fixed arguments


def _stop_children(children: Sequence[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


# --- parsing --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xietong", description="Xietong (协同)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="migrate, then serve web + worker until Ctrl-C")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.set_defaults(handler=cmd_run)

    migrate = commands.add_parser("migrate", help="apply migrations")
    migrate.add_argument(
        "--to", metavar="NAME", help="stop after this migration (never goes backwards)"
    )
    migrate.set_defaults(handler=cmd_migrate)
    commands.add_parser("demo", help="load the demo company").set_defaults(handler=cmd_demo)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", required=True
    )
    create_user = user.add_parser("create", help="create a user")
    create_user.add_argument("email")
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--department", required=True)
    create_user.add_argument("--password")
    create_user.add_argument("--admin", action="store_true")
    create_user.set_defaults(handler=cmd_user_create)

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create_token = token.add_parser("create", help="print a new API token for a user")
    create_token.add_argument("email")
    create_token.add_argument("--name", default="cli")
    create_token.add_argument("--expires-days", type=int)
    create_token.add_argument(
        "--project",
        action="append",
        metavar="CODE",
        help="limit the token to this project (repeat for several; default: all the user's)",
    )
    create_token.add_argument(
        "--read-only", action="store_true", help="the token may read but not change anything"
    )
    create_token.set_defaults(handler=cmd_token_create)

    commands.add_parser("worker", help="run only the arq worker").set_defaults(handler=cmd_worker)
    backup = commands.add_parser("backup", help="copy database, attachments and key to FILE")
    backup.add_argument("file")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into an empty target")
    restore.add_argument("file")
    restore.add_argument("--force", action="store_true", help="replace what the target holds")
    restore.set_defaults(handler=cmd_restore)
    plan = commands.add_parser("plan", help="a project's plan").add_subparsers(
        dest="plan_command", required=True
    )
    export = plan.add_parser("export", help="the plan as MS Project XML on standard output")
    export.add_argument("code")
    export.set_defaults(handler=cmd_plan_export)
    importing = plan.add_parser(
        "import", help="preview an MS Project XML file or a WBS .xlsx; --confirm imports"
    )
    importing.add_argument("code")
    importing.add_argument("file")
    importing.add_argument("--confirm", action="store_true", help="import it after the preview")
    importing.set_defaults(handler=cmd_plan_import)
    copy = commands.add_parser("copy-data", help="copy a SQLite database into DATABASE_URL")
    copy.add_argument("--from", dest="source", required=True, metavar="SQLITE_URL")
    copy.set_defaults(handler=cmd_copy_data)
    commands.add_parser(
        "verify", help="re-check every signed document; non-zero exit on any mismatch"
    ).set_defaults(handler=cmd_verify)

    job = commands.add_parser("job", help="scheduled jobs").add_subparsers(
        dest="job_command", required=True
    )
    job_run = job.add_parser("run", help="run one job now")
    job_run.add_argument("name")
    job_run.add_argument("--project")
    job_run.set_defaults(handler=cmd_job_run)
    job.add_parser("list", help="name the jobs").set_defaults(handler=cmd_job_list)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    from server.errors import DomainError, each_error

    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        args.handler(settings, args)
    except CommandError as error:
        print(f"xietong: {error}", file=sys.stderr)
        sys.exit(2)
    except DomainError as error:
        problems = [
            (f"{e.field}: " if e.field else "") + e.translated("en") for e in each_error(error)
        ]
        print(f"xietong: {'; '.join(problems)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
