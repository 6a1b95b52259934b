"""`flask --app wsgi ...` commands: thin wrappers over the services."""

import csv
import io
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app

from admin_app.models import StatusAction
from admin_app.models.types import utcnow
from admin_app.progress import progress_bar
from admin_app.roles import ROLES
from admin_app.services import (
    api_tokens,
    approvals,
    audit_checkpoint,
    audit_verify,
    backup,
    code_list,
    demo,
    staff,
    status_change,
)
from admin_app.services import orders as order_service
from admin_app.services import review as review_service
from admin_app.services.audit import Actor
from admin_app.services.errors import ServiceError
from admin_app.spreadsheet import escape_spreadsheet_formula


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(1)


@click.group("users", help="Manage staff users.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option("--password", help="Prompted for (hidden, twice) when not given.")
def create_user_command(username: str, role: str, password: str | None) -> None:
    """Create a staff user."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = staff.create_user(username, role=role, password=password, actor=Actor.cli())
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"Created {role} {user.username!r}.")


@click.group("orders", help="Place orders.")
def orders_group() -> None:
    pass


@orders_group.command("create")
@click.option("--customer", "customer_code", required=True, help="The customer's code.")
@click.option("--amount", required=True, help="The order amount, e.g. 1250.00.")
def create_order_command(customer_code: str, amount: str) -> None:
    """Place an order (refused, exit 1, when the customer is not active)."""
    try:
        placed = order_service.place_order(
            order_service.find_customer_id(customer_code), amount, actor=Actor.cli()
        )
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"Placed order {placed.number} for {placed.customer_code}: {placed.amount}.")


@click.group("customers", help="Customer jobs.")
def customers_group() -> None:
    pass


REVIEW_COLUMNS = (
    "code",
    "name",
    "segment",
    "balance",
    "credit_limit",
    "last_order_utc",
    "contract_end",
    "matched_rules",
)


def _review_row(candidate: review_service.Candidate) -> list:
    safe = escape_spreadsheet_formula
    last_order = candidate.last_order_at
    return [
        safe(candidate.code),
        safe(candidate.name),
        safe(candidate.segment),
        candidate.balance,
        candidate.credit_limit,
        last_order.strftime("%Y-%m-%d %H:%M") if last_order else "",
        candidate.contract_end.isoformat() if candidate.contract_end else "",
        safe(candidate.matched_text),
    ]


def _echo_csv(row) -> None:
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(row)
    click.echo(line.getvalue(), nl=False)


def _table_line(row: list) -> str:
    code, name, segment, balance, credit, last_order, contract_end, rules = (
        str(value) for value in row
    )
    if len(name) > 32:
        name = name[:31] + "…"
    return (
        f"{code:<10} {name:<32} {segment:<11} {balance:>14} {credit:>14} "
        f"{last_order[:10]:<10} {contract_end:<12} {rules}"
    )


@customers_group.command("review")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", "csv")),
    default="table",
    show_default=True,
    help="Output format (CSV goes to stdout).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Also log a review_complete operation (actor: system, source: cli).",
)
def review_command(output_format: str, record: bool) -> None:
    """Print the review candidates: active customers that enabled review rules propose for
    deactivation (the same list as /admin/review/). Spreadsheet formulas are escaped."""
    rules = review_service.load_rules()
    count = 0
    if output_format == "csv":
        _echo_csv(REVIEW_COLUMNS)
        for candidate in review_service.iter_candidates(rules):
            _echo_csv(_review_row(candidate))
            count += 1
    else:
        click.echo(
            _table_line(
                [
                    "Code",
                    "Name",
                    "Segment",
                    "Balance",
                    "Credit limit",
                    "Last order",
                    "Contract end",
                    "Matched rules",
                ]
            )
        )
        for candidate in review_service.iter_candidates(rules):
            click.echo(_table_line(_review_row(candidate)))
            count += 1
        if not rules:
            click.echo("No review rule is enabled.")
        click.echo(f"{count} candidate(s).")
    if record:
        done = review_service.complete_review(actor=Actor.cli())
        click.echo(
            f"Recorded review operation #{done.operation_id} ({done.candidates} candidate(s)).",
            err=output_format == "csv",
        )


CLI_SKIP_TEXT = {
    status_change.SKIP_ALREADY: "already {target}",
    status_change.SKIP_NOT_ALLOWED: "deactivated, so they cannot be frozen",
    status_change.SKIP_CHANGED: "changed since the preview",
    status_change.SKIP_MISSING: "no longer exist",
}
CLI_DONE_VERB = {"deactivate": "Deactivated", "freeze": "Froze", "reactivate": "Reactivated"}


def _read_code_list(path: str, column: str) -> code_list.CodeList:
    """A list of codes from a file (CSV, XLSX, or plain text) or standard input ("-")."""
    if path == "-":
        return code_list.parse_text(sys.stdin.read())
    with open(path, "rb") as stream:
        data = stream.read(code_list.MAX_FILE_BYTES + 1)
    return code_list.parse_file(os.path.basename(path), data, column, any_name_is_text=True)


def _skip_summary(skipped: dict[str, int], action: StatusAction) -> str:
    return ", ".join(
        f"{count} {CLI_SKIP_TEXT[reason].format(target=action.target.value)}"
        for reason, count in skipped.items()
    )


@customers_group.command("change-status")
@click.option(
    "--action",
    "action_name",
    required=True,
    type=click.Choice([action.value for action in StatusAction]),
)
@click.option("--reason", "reason_code", required=True, help="A reason code (see Reasons).")
@click.option("--memo", default="", help="Required when the reason says so.")
@click.option(
    "--codes-file",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Customer codes: a text file (any separators), CSV or XLSX (first row: "
    "header), or - for standard input.",
)
@click.option(
    "--column",
    default="",
    help="CSV/XLSX column: header name or number "
    "(1 = first); default: the column named code, else the first.",
)
@click.option("--dry-run", is_flag=True, help="Print the preview and stop; nothing changes.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def change_status_command(
    action_name: str,
    reason_code: str,
    memo: str,
    codes_file: str,
    column: str,
    dry_run: bool,
    yes: bool,
) -> None:
    """Deactivate, freeze or reactivate the customers of a list of codes, through the same
    preview and service as the web confirmation page (logged with source cli). Exit 1 on bad
    input or when nothing in the list names a customer."""
    try:
        action = status_change.parse_action(action_name)
        status_change.validated_reason(action, reason_code, memo)
        codes = _read_code_list(codes_file, column)
        lookup = code_list.look_up(codes.codes)
    except OSError as exc:
        _fail(f"cannot read {codes_file}: {exc.strerror}")
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(
        f"List of {codes.listed} codes ({lookup.found} found, "
        f"{codes.duplicates} duplicate(s) counted once)."
    )
    if lookup.unknown:
        click.echo(f"{len(lookup.unknown)} unknown code(s):")
        for code in lookup.unknown[: code_list.MAX_UNKNOWN_SHOWN]:
            near = lookup.suggestions.get(code)
            click.echo(f"  {code}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
        if len(lookup.unknown) > code_list.MAX_UNKNOWN_SHOWN:
            click.echo(f"  ...and {len(lookup.unknown) - code_list.MAX_UNKNOWN_SHOWN} more.")
    if not lookup.ids:
        _fail("none of the codes names a customer; nothing was changed.")
    try:
        request_id = status_change.create_request(
            action=action,
            actor=Actor.cli(),
            ids=lookup.ids,
            scope=code_list.scope_of(codes, lookup, source=os.path.basename(codes_file)),
        )
        preview = status_change.describe(request_id, max_rows=0)
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"Will {action.value}: {preview.eligible} customer(s).")
    if preview.skipped_total:
        click.echo(f"Skipped: {preview.skipped_total} ({_skip_summary(preview.skipped, action)}).")
    # Four-eyes: what the policy sends for approval never runs from the command line (there
    # is no second person here); it is refused before anything changes.
    needs_approval = approvals.needs_approval(request_id, reason_code)
    if needs_approval:
        click.echo(
            "This change needs a second person's approval (more than "
            f"{current_app.config['APPROVAL_THRESHOLD']} customers, or a reason that requires "
            "approval): make it on the web confirmation page, which sends it for approval."
        )
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    if not preview.eligible:
        click.echo("Nothing to change.")
        return
    if needs_approval:
        _fail("this change needs a second person's approval; nothing was changed.")
    if not yes and not click.confirm(
        f"{action.value.capitalize()} {preview.eligible} customer(s)?", default=False
    ):
        _fail("cancelled; nothing was changed.")
    try:
        result = status_change.execute(
            request_id, actor=Actor.cli(), reason_code=reason_code, memo=memo
        )
    except ServiceError as exc:
        _fail(exc.message)
    line = f"{CLI_DONE_VERB[result.action.value]} {result.changed} customer(s)"
    if result.skipped:
        line += f", skipped {result.skipped_total} ({_skip_summary(result.skipped, action)})"
    click.echo(f"{line}. Operation #{result.operation_id}.")


@click.command("seed-demo")
@click.option("--customers", default=500, show_default=True, help="How many customers.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
def seed_demo_command(customers: int, seed: int) -> None:
    """Add demo customers, orders, staff, reasons and rules to an empty database."""
    shared_password = os.environ.get("DEMO_PASSWORD") or None
    if current_app.config.get("SESSION_COOKIE_SECURE") and not shared_password:
        _fail("In production set DEMO_PASSWORD; no default passwords are seeded there.")
    try:
        with progress_bar(customers, "Adding demo customers") as progress:
            result = demo.seed_demo(
                customers=customers, seed=seed, shared_password=shared_password, progress=progress
            )
    except ServiceError as exc:
        _fail(exc.message)
    if result.skipped:
        click.echo("Customers already exist; nothing was added.")
        return
    click.echo(f"Added {result.customers} customers and {result.orders} orders.")
    if result.logins:
        click.echo("Demo logins (username / password):")
        for username, role, password in result.logins:
            click.echo(f"  {username:<8} {password:<24} ({role})")


def _stdout_is_tty() -> bool:
    return sys.stdout.isatty()


@click.group("audit", help="Check the operation log.")
def audit_group() -> None:
    pass


REPORTED_LINE_PROBLEMS = 10


@audit_group.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_path",
    metavar="FILE",
    help="Also check the signed checkpoints in FILE (from `audit checkpoint`).",
)
@click.option(
    "--public-key",
    "public_key_paths",
    metavar="FILE",
    multiple=True,
    help="A public key (PEM) the checkpoints may be signed with; repeat it for "
    "older keys. Default: the public half of AUDIT_SIGNING_KEY.",
)
def verify_command(checkpoints_path: str | None, public_key_paths: tuple[str, ...]) -> None:
    """Walk the log's hash chain; exit 0 when intact, 1 naming the first bad operation.

    With --checkpoints, also exit 1 when a checkpoint line is malformed or its signature does
    not verify, or when the log no longer holds a checkpointed operation unchanged."""
    watcher, line_problems = None, []
    if checkpoints_path is not None:
        watcher, line_problems = _read_checkpoints(checkpoints_path, public_key_paths)
    elif public_key_paths:
        _fail("--public-key needs --checkpoints FILE.")
    if _stdout_is_tty():
        with click.progressbar(
            length=audit_verify.chain_length(), label="Verifying operations"
        ) as bar:
            result = audit_verify.verify_chain(progress=bar.update, watcher=watcher)
    else:
        result = audit_verify.verify_chain(watcher=watcher)
    for problem in line_problems[:REPORTED_LINE_PROBLEMS]:
        click.echo(str(problem))
    if len(line_problems) > REPORTED_LINE_PROBLEMS:
        click.echo(
            f"… and {len(line_problems) - REPORTED_LINE_PROBLEMS} more bad checkpoint line(s)."
        )
    click.echo(result.message)
    if not result.intact or line_problems:
        raise SystemExit(1)


@click.group("backup", help="Consistent backups and their check.")
def backup_group() -> None:
    pass


@backup_group.command("create")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_create_command(target: Path) -> None:
    """Write a consistent copy of the database to TARGET while the app keeps serving
    (SQLite: online backup API; PostgreSQL: pg_dump custom format)."""
    try:
        backup.create_backup(target)
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(
        f"Backup written to {target}. Check it with: flask --app wsgi backup verify {target}"
    )


@backup_group.command("verify")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def backup_verify_command(source: Path) -> None:
    """Open a copy of SOURCE, verify its operation log and print its counts; exit 1 when it
    does not open or its log does not verify. SOURCE itself is never changed."""
    try:
        check = backup.verify_backup(source)
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(
        f"{check.customers} customers, {check.operations} operations, {check.entries} entries."
    )
    click.echo(check.message)
    if not check.intact:
        raise SystemExit(1)


@backup_group.command("acknowledge-restore")
def backup_acknowledge_command() -> None:
    """After a deliberate restore: accept that the operation log went back, log it, and allow
    writing again."""
    try:
        done = backup.acknowledge_restore(actor=Actor.cli())
    except ServiceError as exc:
        _fail(exc.message)
    if done is None:
        click.echo("The operation log has not gone back; nothing to acknowledge.")
        return
    click.echo(
        f"Acknowledged: the log went back from operation #{done.last_seen_operation_id} "
        f"to #{done.head_operation_id}. Logged as operation #{done.operation_id}; "
        f"writing is allowed again."
    )


def _read_checkpoints(path: str, public_key_paths: tuple[str, ...]):
    """The watcher for the good checkpoint lines in `path`, and the bad lines."""
    try:
        if public_key_paths:
            keys = [audit_checkpoint.load_public_key(key) for key in public_key_paths]
        else:
            keys = [
                audit_checkpoint.load_signing_key(
                    current_app.config["AUDIT_SIGNING_KEY"]
                ).public_key()
            ]
    except ServiceError as exc:
        hint = "" if public_key_paths else " Or give the public key: --public-key FILE."
        _fail(exc.message + hint)
    try:
        with open(path, "rb") as lines:
            checkpoints, problems = audit_checkpoint.read_checkpoints(lines, keys)
    except OSError as exc:
        _fail(f"Checkpoints {path}: cannot read it ({exc.strerror}).")
    if not checkpoints and not problems:
        _fail(f"Checkpoints {path}: no checkpoint in it.")
    return audit_checkpoint.CheckpointWatch(checkpoints), problems


@audit_group.command("checkpoint")
@click.option("--out", "out_path", metavar="FILE", help="Append the signed line to FILE.")
@click.option(
    "--stdout",
    "to_stdout",
    is_flag=True,
    help="Print the line as well (the default without --out): for syslog/journald.",
)
@click.option(
    "--public-key",
    "show_public_key",
    is_flag=True,
    help="Print the public key (PEM) that verifies the checkpoints, and exit.",
)
def checkpoint_command(out_path: str | None, to_stdout: bool, show_public_key: bool) -> None:
    """Sign the log's newest operation with AUDIT_SIGNING_KEY: one JSON line (operation id,
    hash, operation and entry counts up to it, UTC time, database) to keep outside the
    database, for `audit verify --checkpoints`."""
    key_path = current_app.config["AUDIT_SIGNING_KEY"]
    try:
        signing_key = audit_checkpoint.load_signing_key(key_path)
    except ServiceError as exc:
        _fail(exc.message)
    if show_public_key:
        if out_path or to_stdout:
            _fail("--public-key prints the key only; run it without --out / --stdout.")
        click.echo(audit_checkpoint.public_key_pem(signing_key.public_key()), nl=False)
        return
    if audit_checkpoint.signing_key_is_exposed(key_path):
        click.echo(f"Warning: {key_path} can be read by other users; chmod 600 it.", err=True)
    try:
        signed = audit_checkpoint.take_checkpoint(signing_key)
        if out_path:
            audit_checkpoint.append_line(out_path, signed.line)
    except ServiceError as exc:
        _fail(exc.message)
    if to_stdout or not out_path:
        click.echo(signed.line)
    audit_checkpoint.record_checkpoint(signed.checkpoint)
    if out_path and not to_stdout and _stdout_is_tty():
        where = signed.checkpoint.operation_id
        click.echo(
            f"Checkpoint up to operation #{where} appended to {out_path}."
            if where is not None
            else f"Checkpoint of the empty log appended to {out_path}."
        )


@audit_group.command("keygen")
@click.argument("path", metavar="FILE")
def keygen_command(path: str) -> None:
    """Create a new Ed25519 key to sign checkpoints with, in the new file FILE (mode 0600;
    never overwrites), and print its public key."""
    try:
        signing_key = audit_checkpoint.generate_signing_key(path)
    except ServiceError as exc:
        _fail(exc.message)
    public_key = signing_key.public_key()
    click.echo(
        f"Wrote a new signing key (key id {audit_checkpoint.key_id(public_key)}) to "
        f"{path}. Set AUDIT_SIGNING_KEY={path}. Its public key, to publish and to "
        "verify with:"
    )
    click.echo(audit_checkpoint.public_key_pem(public_key), nl=False)


@click.group("api-tokens", help="Manage the read-only tokens of the status API.")
def api_tokens_group() -> None:
    pass


@api_tokens_group.command("create")
@click.argument("name")
@click.option(
    "--expires-days",
    type=click.IntRange(1, api_tokens.MAX_EXPIRES_DAYS),
    help="Days until the token expires (default: never; revoke it instead).",
)
def create_api_token_command(name: str, expires_days: int | None) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    try:
        created = api_tokens.create_token(name, expires_days=expires_days, actor=Actor.cli())
    except ServiceError as exc:
        _fail(exc.message)
    expires = created.expires_at.strftime("%Y-%m-%d %H:%M UTC") if created.expires_at else "never"
    click.echo(
        f"Created API token {created.name!r} (expires: {expires}, "
        f"operation #{created.operation_id}). Store it now; it is not shown again:",
        err=True,
    )
    click.echo(created.token)


@api_tokens_group.command("list")
def list_api_tokens_command() -> None:
    """List the API tokens (name, start of the token, state, created, expires)."""
    now = utcnow()
    rows = api_tokens.list_tokens()
    click.echo(f"{'Name':<32} {'Token':<16} {'State':<8} {'Created':<17} {'Expires':<17} By")
    for row in rows:
        expires = row.expires_at.strftime("%Y-%m-%d %H:%M") if row.expires_at else "never"
        click.echo(
            f"{row.name:<32} {row.token_prefix + '…':<16} {row.state(now):<8} "
            f"{row.created_at.strftime('%Y-%m-%d %H:%M'):<17} {expires:<17} "
            f"{row.created_by}"
        )
    click.echo(f"{len(rows)} token(s).")


@api_tokens_group.command("revoke")
@click.argument("name")
def revoke_api_token_command(name: str) -> None:
    """Revoke an API token: refused from its next request on."""
    try:
        operation_id = api_tokens.revoke_token(name, actor=Actor.cli())
    except ServiceError as exc:
        _fail(exc.message)
    click.echo(f"Revoked API token {name!r} (operation #{operation_id}).")


@click.group("schedule", help="Scheduled status changes.")
def schedule_group() -> None:
    pass


def _parse_now(value: str | None):
    if not value:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--now must be an ISO 8601 time (e.g. 2026-12-31T00:00:00Z), not {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@schedule_group.command("run")
@click.option(
    "--now", "now_text", default=None, help="Treat this ISO 8601 time as now (UTC if no offset)."
)
def schedule_run_command(now_text: str | None) -> None:
    """Apply every pending scheduled change that is due, in due order, as the system (source
    cli); skip customers whose status no longer fits. Safe to run again or concurrently; meant
    for cron or a systemd timer. Prints what it did; exit 0."""
    from admin_app.services import scheduling

    try:
        report = scheduling.run_due(now=_parse_now(now_text))
    except ServiceError as exc:
        _fail(exc.message)
    as_of = report.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not report.batches:
        click.echo(f"Nothing due at {as_of}.")
        return
    for batch in report.batches:
        due = batch.due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        by = ", ".join(f"#{op}" for op in batch.scheduled_by)
        click.echo(
            f"{CLI_DONE_VERB[batch.action.value]} {batch.applied} customer(s) due {due} "
            f"(reason {batch.reason_code}, scheduled by {by}): operation #{batch.operation_id}."
        )
        if batch.skipped:
            shown = ", ".join(f"{code} (now {status})" for code, status in batch.skipped_codes)
            more = batch.skipped - len(batch.skipped_codes)
            click.echo(
                f"  Skipped {batch.skipped}, status no longer fits: {shown}"
                + (f" and {more} more" if more > 0 else "")
                + "."
            )
    click.echo(f"Done at {as_of}: applied {report.applied}, skipped {report.skipped}.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_group)
    app.cli.add_command(orders_group)
    app.cli.add_command(customers_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(api_tokens_group)
    app.cli.add_command(schedule_group)
