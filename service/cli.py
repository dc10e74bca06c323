"""The `maillage` command line: serve, migrate, demo, createuser, remind, send-mail, purge,
gaps, import, export, export-hsds, import-di, export-di, verify (start, remind, status)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import click

from directory.errors import Invalid
from service import db
from service.settings import DEFAULT_DATABASE_URL, Settings

if TYPE_CHECKING:
    import uvicorn


@click.group()
@click.option(
    "--database-url",
    envvar="MAILLAGE_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="sqlite:///path/file.sqlite or postgresql://user@host:port/name",
)
@click.pass_context
def main(ctx: click.Context, database_url: str) -> None:
    """Maillage: partner directory and referral exchange of the Missions Locales."""
    ctx.obj = Settings.from_env(database_url=database_url)
    db.use_database(database_url)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


@main.command()
def migrate() -> None:
    """Create or update the database schema."""
    asyncio.run(db.migrate())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Start the web application (applies pending migrations first)."""
    import os

    import uvicorn

    settings = _settings(ctx)
    asyncio.run(db.migrate())
    os.environ["MAILLAGE_DATABASE_URL"] = settings.database_url
    os.environ.setdefault("MAILLAGE_SECRET_KEY", settings.secret_key)
    click.echo(
        f"Maillage est prêt : ouvrez http://{host}:{port}/login "
        f"(base : {settings.database_url}). Ctrl+C pour arrêter."
    )
    config = uvicorn.Config(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    _serve_workers(config)


def _serve_workers(config: uvicorn.Config) -> None:
    """uvicorn's own multi-worker start, with TCP_NODELAY on the shared socket. uvicorn makes
    that socket with protocol 0, so asyncio does not turn Nagle's algorithm off on the
    connections it accepts: every answer then waited for the client's delayed ACK, 40 ms
    (measured: /healthz at 22 req/s on one connection with 2 workers, 4,000 with 1). Linux
    passes the option on to the accepted connections."""
    import socket

    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo territory (idempotent: does nothing if it is already there)."""
    from service.demo import load_demo

    asyncio.run(db.migrate())
    report = asyncio.run(load_demo())
    click.echo(report.describe())


@main.command()
@click.argument("email")
@click.option("--name", required=True, help="Full name shown in the app.")
@click.option(
    "--role",
    type=click.Choice(["advisor", "coordinator", "admin"]),
    default="advisor",
    show_default=True,
)
@click.option("--structure", "structure_id", default=None, help="UUID of the user's structure.")
@click.option("--password", default=None, help="Asked interactively when omitted.")
@click.option("--token", is_flag=True, help="Also print an API token for scripts.")
def createuser(
    email: str, name: str, role: str, structure_id: str | None, password: str | None, token: bool
) -> None:
    """Create a user account."""
    from service.accounts.store import Role, create_api_token, create_user

    if password is None:
        password = getpass.getpass("Mot de passe : ")

    async def run() -> str | None:
        user_id = await create_user(
            email, name, password, Role(role), UUID(structure_id) if structure_id else None
        )
        return await create_api_token(user_id, "createuser") if token else None

    try:
        api_token = asyncio.run(run())
    except Invalid as error:
        for field, message in error.errors.items():
            click.echo(f"{field} : {message}", err=True)
        sys.exit(1)
    click.echo(f"Compte créé : {email} ({role})")
    if api_token:
        click.echo(f"Jeton d'API : {api_token}")


@main.command()
@click.pass_context
def remind(ctx: click.Context) -> None:
    """Remind partners of deadlines, tell advisors what is overdue, expire the forgotten,
    then send the mail that is due. Idempotent: run it as often as you like (cron), it
    sends nothing twice."""
    from service.outbox import courier_from_settings
    from service.referrals.reminders import run_reminders

    settings = _settings(ctx)

    async def run() -> str:
        report = await run_reminders(settings.referral_rules, settings.expire_after_days)
        delivered = await courier_from_settings(settings).deliver_due()
        return f"{report.describe()} {delivered.describe()}"

    click.echo(asyncio.run(run()))


@main.command(name="send-mail")
@click.option(
    "--limit", default=1000, show_default=True, type=int, help="At most this many messages."
)
@click.pass_context
def send_mail(ctx: click.Context, limit: int) -> None:
    """Send the mail waiting in the outbox (for cron when the server's worker is off, or
    after a crash). Safe to run beside the server: each message leaves once."""
    from service.outbox import courier_from_settings

    courier = courier_from_settings(_settings(ctx))
    report = asyncio.run(courier.deliver_due(limit=limit))
    click.echo(report.describe())


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """A day (AAAA-MM-JJ) or a moment (AAAA-MM-JJTHH:MM), in Paris time."""
    if value is None:
        return None
    from directory.hours import LOCAL_TIME

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"« {value} » n'est pas une date : écrivez-la AAAA-MM-JJ, par exemple 2026-12-01."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TIME)


@main.command()
@click.option(
    "--now",
    "now",
    callback=_moment,
    default=None,
    metavar="AAAA-MM-JJ",
    help="Count the retention period back from this day instead of today.",
)
@click.option("--dry-run", is_flag=True, help="List what would be erased; erase nothing.")
@click.pass_context
def purge(ctx: click.Context, now: datetime | None, dry_run: bool) -> None:
    """Anonymise young people whose last referral closed more than the retention period ago,
    and erase import reports older than theirs. Prints what was (or, with --dry-run, would
    be) erased, without any personal data."""
    from service.import_jobs.purge import purge_reports
    from service.referrals.purge import purge as run_purge

    settings = _settings(ctx)
    report = asyncio.run(run_purge(settings.retention_months, now=now, dry_run=dry_run))
    click.echo(report.describe())
    imports = asyncio.run(
        purge_reports(
            settings.import_retention_days, now=now, dry_run=dry_run, media_dir=settings.media_dir
        )
    )
    click.echo(imports.describe())


@main.command()
@click.argument("territory")
@click.option("--domain", default="", help="One domain (default: all eleven).")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "geojson"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def gaps(territory: str, domain: str, fmt: str, output: Path | None) -> None:
    """Coverage of a territory (its id or its exact name): commune x domain, gap / fragile /
    unknown (no contact known) / covered, as CSV or GeoJSON, with a progress bar for large
    territories."""
    import json

    from rich.console import Console
    from rich.progress import Progress

    from directory.csv_cells import rows_to_csv
    from directory.outlines import outlines_for
    from directory.territories import all_territories
    from graph.coverage import to_csv_rows, to_geojson
    from service import coverage as cov

    async def run() -> str:
        found = [
            t for t in await all_territories() if str(t.id) == territory or t.name == territory
        ]
        if not found:
            raise click.ClickException(f"Territoire introuvable : {territory}")
        inputs = await cov.load_inputs(found[0].id)
        domains = [domain] if domain else None
        # The bar goes to standard error, so that standard output stays a clean file.
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Couverture", total=len(inputs.communes))
            cells = cov.compute(inputs, domains, lambda n: progress.update(task, advance=n))
        if fmt == "geojson":
            outlines = outlines_for(c.insee for c in inputs.communes)
            return json.dumps(to_geojson(cells, outlines, domain or "housing", inputs.communes))
        return rows_to_csv(to_csv_rows(cells))

    text = asyncio.run(run())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Écrit : {output}", err=True)


@main.command(name="import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--keep-valid",
    is_flag=True,
    help="Write every valid row and list the refused ones in the report (default: all or nothing).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report CSV (refused rows and warnings); "
    "default with --keep-valid: FOLDER-rapport.csv next to FOLDER.",
)
def import_(folder: Path, keep_valid: bool, report: Path | None) -> None:
    """Import the directory from CSV files (see docs/csv.md); all or nothing by default."""
    from directory.csv_io import CsvImportError, import_directory

    if report is None and keep_valid:
        report = folder.resolve().parent / f"{folder.resolve().name}-rapport.csv"
    try:
        result = asyncio.run(import_directory(folder, keep_valid=keep_valid))
    except CsvImportError as error:
        click.echo("Import refusé, rien n'a été écrit :", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        _write_report(report, error.report)
        sys.exit(1)
    click.echo(result.message)
    if result.warnings:
        click.echo("Remarques (lignes importées telles que lues ci-dessous) :", err=True)
        for warning in result.warnings:
            click.echo(f"  {warning}", err=True)
    _write_report(report, result.report)


def _write_report(path: Path | None, report: str) -> None:
    if path is not None and report:
        path.write_text(report, encoding="utf-8", newline="")
        click.echo(f"Rapport : {path}", err=True)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export(folder: Path) -> None:
    """Export the directory as CSV files (see README)."""
    from directory.csv_io import export_directory

    folder.mkdir(parents=True, exist_ok=True)
    click.echo(asyncio.run(export_directory(folder)))


@main.command(name="import-di")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_di(files: tuple[Path, ...]) -> None:
    """Import data·inclusion v1 structures and services (JSON or CSV files): every valid
    record goes in, by (source, id); the report lists the others with their reasons."""
    from rich.progress import Progress as Bar

    from directory.data_inclusion import DiImportError, import_files

    with Bar(transient=True) as bar:
        task = bar.add_task("Import", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = asyncio.run(import_files(files, progress))
        except DiImportError as error:
            click.echo(f"Import refusé, rien n'a été écrit : {error}", err=True)
            sys.exit(1)
    click.echo(report.summary())


@main.command(name="export-di")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export_di(folder: Path) -> None:
    """Export the directory as data·inclusion v1 (structures and services, JSON and CSV)."""
    from directory.data_inclusion import export_folder

    export = asyncio.run(export_folder(folder))
    click.echo(
        f"Écrit dans {folder} : {len(export.structures)} structure(s), "
        f"{len(export.services)} service(s) (JSON et CSV)."
    )
    for problem in export.left_out:
        click.echo(f"  laissé de côté : {problem}", err=True)


@main.command(name="export-hsds")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--without-contacts",
    is_flag=True,
    help="Leave out the people (names, professional e-mails and phones): a file to publish.",
)
def export_hsds(folder: Path, without_contacts: bool) -> None:
    """Export the directory as Open Referral HSDS 3.0: FOLDER/organizations.json, every
    structure as a fully nested organization (see README)."""
    from rich.console import Console
    from rich.progress import Progress

    from directory.hsds import count_organizations, write_organizations

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "organizations.json"

    async def run() -> dict[str, int]:
        total = await count_organizations()
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task("Export HSDS", total=total)
            return await write_organizations(
                target, not without_contacts, lambda n: progress.update(task, advance=n)
            )

    found = asyncio.run(run())
    click.echo(
        f"Écrit : {target} (HSDS 3.0) — "
        + ", ".join(f"{found.get(k, 0)} {k}" for k in HSDS_REPORT)
        + "."
    )


HSDS_REPORT = (
    "organizations",
    "locations",
    "services",
    "service_at_locations",
    "service_areas",
    "schedules",
    "contacts",
)


if __name__ == "__main__":
    main()


@main.group()
def verify() -> None:
    """Verification campaigns: partners review their own entry through a personal link."""


def _counts_text(counts: dict[str, int]) -> str:
    return (
        f"{counts['targets']} structures : {counts['sent']} courriels envoyés, "
        f"{counts['confirmed']} confirmées, {counts['corrected']} corrigées, "
        f"{counts['no_answer']} sans réponse, {counts['bounced']} non distribués, "
        f"{counts['no_email']} sans courriel ; {counts['to_call']} à appeler."
    )


@verify.command(name="start")
@click.option("--territory", "territory", required=True, help="The territory's id or exact name.")
@click.option("--older-than", "months", default=12, show_default=True, type=int, help="Months.")
@click.option("--name", required=True, help="The campaign's name.")
@click.pass_context
def verify_start(ctx: click.Context, territory: str, months: int, name: str) -> None:
    """Start a campaign for a territory: every structure whose entry is older than
    --older-than months is mailed a personal link (sent at once). Running it again with
    the same name, territory and months mails only structures it does not hold yet."""
    from directory.territories import all_territories
    from service.campaigns import progress, start
    from service.outbox import courier_from_settings

    async def run() -> str:
        found = [t for t in await all_territories() if territory in (str(t.id), t.name)]
        if not found:
            raise click.ClickException(f"Territoire introuvable : {territory}")
        spec = start.CampaignSpec(name, territory_id=found[0].id, older_than_months=months)
        campaign_id, created = await start.start(spec, None)
        await courier_from_settings(_settings(ctx)).deliver_due()
        counts = (await progress.progress(campaign_id)).counts
        what = "Campagne lancée" if created else "Campagne déjà en cours, complétée"
        return f"{what} : {campaign_id}\n{_counts_text(counts)}"

    try:
        click.echo(asyncio.run(run()))
    except Invalid as error:
        for field, message in error.errors.items():
            click.echo(f"{field} : {message}", err=True)
        sys.exit(1)


@verify.command(name="remind")
@click.argument("campaign_id", type=click.UUID)
@click.pass_context
def verify_remind(ctx: click.Context, campaign_id: UUID) -> None:
    """Remind the structures that have not answered (7 days after the last mail, twice at
    most), then send the mail. Idempotent: running it twice the same day sends nothing
    more (cron it)."""
    from directory.errors import Conflict, NotFound
    from service.campaigns import progress
    from service.outbox import courier_from_settings

    async def run() -> int:
        count = await progress.remind(campaign_id)
        await courier_from_settings(_settings(ctx)).deliver_due()
        return count

    try:
        count = asyncio.run(run())
    except (NotFound, Conflict) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{count} relance(s) envoyée(s).")


@verify.command(name="status")
@click.argument("campaign_id", type=click.UUID)
def verify_status(campaign_id: UUID) -> None:
    """A campaign's counts, and who still needs a phone call."""
    from directory.errors import NotFound
    from service.campaigns import progress

    try:
        found = asyncio.run(progress.progress(campaign_id))
    except NotFound as error:
        raise click.ClickException(str(error)) from error
    lines = [f"{found.name} ({'en cours' if found.status == 'open' else 'close'})"]
    lines.append(_counts_text(found.counts))
    lines += [
        f"À appeler : {t.name} — {t.state} — {t.phone or 'pas de téléphone'}" for t in found.to_call
    ]
    click.echo("\n".join(lines))
