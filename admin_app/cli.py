"""`flask --app wsgi ...` commands: thin wrappers over the services."""

import os

import click
from flask import Flask, current_app

from admin_app.auth.roles import ROLES
from admin_app.progress import progress_bar
from admin_app.services import demo, staff
from admin_app.services.audit import Actor
from admin_app.services.errors import ServiceError


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
            result = demo.seed_demo(customers=customers, seed=seed,
                                    shared_password=shared_password, progress=progress)
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


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_group)
    app.cli.add_command(seed_demo_command)
