"""API tokens: the CLI (`api-tokens create/list/revoke`), the admin page /admin/api-tokens/,
who may use them, and the log they leave. On SQLite and PostgreSQL."""

import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation
from admin_app.services import api_tokens
from admin_app.services.audit import Actor
from admin_app.services.audit_verify import verify_chain
from tests.conftest import make_customers

TOKEN_RE = re.compile(r"cak_[A-Za-z0-9_-]{43}")
LOOKUP = "/api/v1/customers/T00001"


def logged(action: str) -> list[tuple]:
    db.session.rollback()
    return db.session.execute(
        sa.select(
            AuditOperation.actor_username,
            AuditOperation.source,
            AuditEntry.entity,
            AuditEntry.entity_label,
            AuditEntry.field,
        )
        .join(AuditEntry, AuditEntry.operation_id == AuditOperation.id)
        .where(AuditOperation.action == action)
    ).all()


def works(client, token: str) -> bool:
    return client.get(LOOKUP, headers={"Authorization": f"Bearer {token}"}).status_code == 200


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_create_prints_the_token_once_and_it_works(runner, client, app):
    make_customers(1)
    result = runner.invoke(args=["api-tokens", "create", "shop", "--expires-days", "30"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert TOKEN_RE.fullmatch(token)
    assert "not shown again" in result.stderr
    assert works(client, token)
    assert logged("api_token_created") == [("system", "cli", "api_token", "shop", "expires_at")]
    listing = runner.invoke(args=["api-tokens", "list"])
    assert listing.exit_code == 0
    assert "shop" in listing.output and token[:12] in listing.output
    assert token not in listing.output and "active" in listing.output
    assert verify_chain().intact


def test_cli_revoke_stops_the_token(runner, client, app):
    make_customers(1)
    token = runner.invoke(args=["api-tokens", "create", "crm"]).stdout.strip()
    assert works(client, token)
    result = runner.invoke(args=["api-tokens", "revoke", "crm"])
    assert result.exit_code == 0, result.output
    assert "Revoked API token 'crm'" in result.output
    assert not works(client, token)
    assert logged("api_token_revoked") == [("system", "cli", "api_token", "crm", "revoked_at")]
    assert "revoked" in runner.invoke(args=["api-tokens", "list"]).output
    again = runner.invoke(args=["api-tokens", "revoke", "crm"])
    assert again.exit_code == 1 and "already revoked" in again.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["api-tokens", "revoke", "nobody"], "No API token is named nobody"),
        (["api-tokens", "create", "   "], "1 to 64 printable characters"),
        (["api-tokens", "create", "x" * 65], "1 to 64 printable characters"),
        (["api-tokens", "create", "bad\nname"], "1 to 64 printable characters"),
    ],
)
def test_cli_refuses_bad_input_with_exit_1(runner, app, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and message in result.output
    assert logged("api_token_created") == [] and logged("api_token_revoked") == []


@pytest.mark.parametrize("days", ["0", "-1", "abc", "3651"])
def test_cli_refuses_bad_expiry(runner, app, days):
    result = runner.invoke(args=["api-tokens", "create", "shop", "--expires-days", days])
    assert result.exit_code != 0
    assert api_tokens.list_tokens() == []


def test_cli_refuses_a_duplicate_name(runner, app):
    assert runner.invoke(args=["api-tokens", "create", "shop"]).exit_code == 0
    duplicate = runner.invoke(args=["api-tokens", "create", "shop"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    assert len(api_tokens.list_tokens()) == 1


# -- admin page --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "clerk", "auditor"])
def test_only_admins_see_or_use_the_page(client, login, role):
    login(role)
    assert "/admin/api-tokens/" not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/api-tokens/").status_code == 403
    assert client.post("/admin/api-tokens/create/", data={"name": "x"}).status_code == 403
    assert client.post("/admin/api-tokens/revoke/", data={"name": "x"}).status_code == 403
    assert api_tokens.list_tokens() == []


def test_anonymous_is_sent_to_log_in(client, app):
    response = client.get("/admin/api-tokens/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_a_token_shown_once_then_revokes_it(client, login, app):
    make_customers(1)
    login("admin")
    page = client.get("/admin/api-tokens/")
    assert page.status_code == 200 and "/admin/api-tokens/" in client.get("/admin/").get_data(
        as_text=True
    )
    created = client.post("/admin/api-tokens/create/", data={"name": "shop", "expires_days": "90"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    tokens = TOKEN_RE.findall(created.get_data(as_text=True))
    assert len(tokens) == 1
    token = tokens[0]
    assert works(client, token)
    listing = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert token not in listing and token[:12] in listing and "shop" in listing
    assert logged("api_token_created") == [("admin", "web", "api_token", "shop", "expires_at")]
    # revoking asks first
    confirm = client.get("/admin/api-tokens/revoke/?name=shop")
    assert confirm.status_code == 200 and 'name="name"' in confirm.get_data(as_text=True)
    assert works(client, token)
    done = client.post("/admin/api-tokens/revoke/", data={"name": "shop"})
    assert done.status_code == 302
    assert not works(client, token)
    assert logged("api_token_revoked") == [("admin", "web", "api_token", "shop", "revoked_at")]
    assert "Revoked" in client.get("/admin/api-tokens/").get_data(as_text=True)


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 65}, "Field cannot be longer than 64 characters."),
        ({"name": "shop", "expires_days": "0"}, "Number must be between 1 and 3650."),
        ({"name": "shop", "expires_days": "soon"}, "Not a valid integer value."),
        ({"name": "taken"}, "already exists"),
    ],
)
def test_bad_create_input_re_renders_the_form(client, login, app, form, message):
    api_tokens.create_token("taken", expires_days=None, actor=Actor.cli())
    login("admin")
    response = client.post("/admin/api-tokens/create/", data=form)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'id="create-token-form"' in body
    assert not TOKEN_RE.search(body)
    assert [row.name for row in api_tokens.list_tokens()] == ["taken"]
    # one heading, and the required name marked as the other forms mark theirs
    assert len(re.findall(r"<h4[^>]*>\s*API tokens\s*</h4>", body)) == 1
    assert re.search(r'<label for="name">Name</label> <strong class="text-danger"', body)


def test_revoking_an_unknown_token_says_so(client, login, app):
    login("admin")
    response = client.post(
        "/admin/api-tokens/revoke/", data={"name": "ghost"}, follow_redirects=True
    )
    assert "No API token is named ghost" in response.get_data(as_text=True)
    assert logged("api_token_revoked") == []


@pytest.mark.csrf
def test_create_and_revoke_need_the_csrf_token(client, login, app):
    api_tokens.create_token("shop", expires_days=None, actor=Actor.cli())
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={"username": "admin", "password": "correct-horse-battery", "csrf_token": csrf},
    )
    assert client.post("/admin/api-tokens/create/", data={"name": "x"}).status_code == 400
    assert client.post("/admin/api-tokens/revoke/", data={"name": "shop"}).status_code == 400
    assert [(row.name, row.revoked_at) for row in api_tokens.list_tokens()] == [("shop", None)]
