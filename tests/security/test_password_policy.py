"""The password policy (ASVS 2.1.x / v5 6.2.x) wherever a password is set — the service,
`flask users create`, staff management (tests/security/test_staff_management.py) — and
what login does with passwords.

Covered elsewhere: no truncation or case folding at login (tests/test_auth.py::
test_bad_credentials_are_refused_with_one_message, `PASSWORD + "x"` and upper case); salted
scrypt hashes (tests/test_auth.py::test_password_hashes_are_salted_scrypt).
"""

import pytest
import werkzeug.security

from admin_app import create_app
from admin_app.services import authentication
from admin_app.services import staff as staff_service
from admin_app.services.audit import Actor
from admin_app.services.errors import InvalidInput
from tests.security.conftest import text


@pytest.mark.parametrize(
    "password, problem",
    [
        ("a" * 11, "at least 12 characters"),
        ("x" * 129, "at most 128 characters"),
        ("password123456", "too common"),
        ("PASSWORD123456", "too common"),
        ("Maximilian-Jr", "must not be the username"),
        # Not in the short list of common passwords, but zxcvbn sees keyboard rows, repeats,
        # names with a year, and the username inside the password.
        ("qwertyuiop[]", "too easy to guess"),
        ("Kq7#Kq7#Kq7#Kq7#", "too easy to guess"),
        ("jennifer2026!", "too easy to guess"),
        ("maximilian-jr-12", "too easy to guess"),
    ],
)
def test_refused_passwords(app, password, problem):
    with pytest.raises(InvalidInput, match=problem):
        staff_service.create_user(
            "maximilian-jr", role="clerk", password=password, actor=Actor.cli()
        )


@pytest.mark.parametrize("length", [12, 64, 128])
def test_long_passwords_round_trip_through_login(app, client, length):
    """ASVS 2.1.2: 12 to 128 characters are accepted, and the whole password counts."""
    password = "".join(chr(0x21 + (i * 37) % 94) for i in range(length))  # no pattern in it
    staff_service.create_user("longpass", role="clerk", password=password, actor=Actor.cli())
    assert (
        client.post("/login", data={"username": "longpass", "password": password}).status_code
        == 302
    )
    client.post("/logout")
    assert (
        client.post("/login", data={"username": "longpass", "password": password[:-1]}).status_code
        == 401
    )


def test_a_129_character_password_at_login_is_a_clean_400(client, staff):
    response = client.post("/login", data={"username": "admin", "password": "x" * 129})
    assert response.status_code == 400
    assert "Invalid username or password." in text(response)


def test_a_passphrase_of_unrelated_words_is_accepted(app):
    staff_service.create_user(
        "pat", role="clerk", password="Summer-Taipei-Lantern", actor=Actor.cli()
    )
    assert staff_service.password_problem("tr0ub4dor&3x", "pat") is None


def test_the_guessability_message_is_translated(app):
    with app.test_request_context(headers={"Accept-Language": "zh-TW"}):
        assert "太容易被猜到" in staff_service.password_problem("qwertyuiop[]", "pat")


def test_cli_applies_the_policy(runner):
    result = runner.invoke(
        args=["users", "create", "pat", "--role", "clerk", "--password", "password123456"]
    )
    assert result.exit_code == 1
    assert "too common" in result.output


def test_production_seeds_no_default_passwords(database_url, monkeypatch):
    """ASVS 2.5.4: a production install has no account, and seeding demo users there needs
    DEMO_PASSWORD from the environment."""
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    production = create_app("production", SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=database_url)
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["seed-demo", "--customers", "5"])
    assert result.exit_code == 1
    assert "DEMO_PASSWORD" in result.output
    client = production.test_client()
    page = client.get("/login", base_url="https://localhost")
    csrf = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    response = client.post(
        "/login",
        base_url="https://localhost",
        data={"username": "admin", "password": "admin", "csrf_token": csrf.split('"')[0]},
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 401


def test_unknown_user_and_wrong_password_cost_the_same_hash(client, staff, monkeypatch):
    """v5 6.3.8: an unknown username costs a password hash too, with the same method and
    work factor as a real account's, so timing does not tell which usernames exist. Counted
    by spying on werkzeug's hash function (what both paths spend their time in), not timed."""
    hashed = []
    real = werkzeug.security._hash_internal

    def spy(method, salt, password):
        hashed.append(method)
        return real(method, salt, password)

    def methods_hashed_by_login(username):
        hashed.clear()
        response = client.post(
            "/login", data={"username": username, "password": "wrong-password-1"}
        )
        assert response.status_code == 401
        return list(hashed)

    authentication._dummy_hash()  # made once per process (cached), before any counting
    monkeypatch.setattr(werkzeug.security, "_hash_internal", spy)
    stored_method = staff["admin"].password_hash.split("$", 1)[0]  # e.g. scrypt:32768:8:1
    assert methods_hashed_by_login("admin") == [stored_method]
    assert methods_hashed_by_login("nobody-here") == [stored_method]
    assert methods_hashed_by_login("Nobody-Else") == [stored_method]
