"""The status API (/api/v1/) as a consuming system and an attacker see it, on SQLite and
PostgreSQL: bearer tokens, the three endpoints, JSON errors, no session, read-only, the
change feed against the UI's bulk flow, rate limit, OpenAPI, and a fuzz test for 500s."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin_app.api.schemas import CheckResponseSchema, CustomerStatusSchema, FeedResponseSchema
from admin_app.extensions import db
from admin_app.models import AuditOperation
from admin_app.services import api_tokens
from admin_app.services.audit import Actor
from admin_app.services.status_api import feed_query
from tests.conftest import confirm_action, make_customers, start_action

API = "/api/v1"
ENDPOINTS = [
    ("get", f"{API}/customers/T00001", None),
    ("post", f"{API}/customers/check", {"codes": ["T00001"]}),
    ("get", f"{API}/status-changes", None),
]


def new_token(name="shop", expires_days=None) -> str:
    return api_tokens.create_token(name, expires_days=expires_days, actor=Actor.cli()).token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(app) -> str:
    return new_token()


@pytest.fixture
def api(client, token):
    """`api.get(path)` / `api.post(path, json=...)` with the token."""

    class Api:
        def get(self, path, **kwargs):
            return client.get(path, headers=bearer(token), **kwargs)

        def post(self, path, **kwargs):
            return client.post(path, headers=bearer(token), **kwargs)

    return Api()


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]
    assert "Set-Cookie" not in response.headers
    return body


def table_snapshot() -> dict:
    db.session.rollback()
    tables = (
        "customers",
        "audit_operations",
        "audit_entries",
        "audit_chain_head",
        "api_tokens",
        "staff_users",
        "orders",
    )
    return {
        name: sorted(
            map(tuple, db.session.execute(sa.text(f"SELECT * FROM {name}")).all()), key=repr
        )
        for name in tables
    }


def deactivate_through_ui(client, login, ids, reason="customer_request"):
    login("admin")
    page, confirmation = start_action(client, "deactivate", ids)
    assert page.status_code == 200 and confirmation
    done = confirm_action(client, confirmation, reason=reason)
    assert done.status_code in (302, 303)
    client.post("/logout")


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        "Basic dXNlcjpwYXNz",
        "Bearer cak_" + "A" * 43,
        "Token {token}",
        "Bearer {token}x",
        "Bearer " + "x" * 5000,
    ],
)
@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_missing_or_invalid_token_is_401_with_www_authenticate(
    client, token, header, method, path, body
):
    headers = {"Authorization": header.format(token=token)} if header is not None else {}
    response = getattr(client, method)(path, headers=headers, json=body)
    assert_json_error(response, 401, "unauthorized")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert ("invalid_token" in challenge) == bool(headers.get("Authorization"))


def test_scheme_is_case_insensitive(client, token, app):
    make_customers(1)
    assert (
        client.get(
            f"{API}/customers/T00001", headers={"Authorization": f"bearer {token}"}
        ).status_code
        == 200
    )


def test_a_revoked_token_stops_working_mid_run(client, token, app):
    make_customers(1)
    other = new_token("crm")
    assert client.get(f"{API}/customers/T00001", headers=bearer(token)).status_code == 200
    api_tokens.revoke_token("shop", actor=Actor.cli())
    assert_json_error(
        client.get(f"{API}/customers/T00001", headers=bearer(token)), 401, "unauthorized"
    )
    assert_json_error(
        client.post(f"{API}/customers/check", headers=bearer(token), json={"codes": ["T00001"]}),
        401,
        "unauthorized",
    )
    assert client.get(f"{API}/customers/T00001", headers=bearer(other)).status_code == 200


def test_an_expired_token_is_refused(client, app, monkeypatch):
    make_customers(1)
    created = api_tokens.create_token("short", expires_days=1, actor=Actor.cli())
    assert client.get(f"{API}/customers/T00001", headers=bearer(created.token)).status_code == 200
    monkeypatch.setattr(api_tokens, "utcnow", lambda: created.expires_at + timedelta(seconds=1))
    assert_json_error(
        client.get(f"{API}/customers/T00001", headers=bearer(created.token)), 401, "unauthorized"
    )


def test_only_the_hash_is_stored(app, token):
    stored = db.session.execute(sa.text("SELECT * FROM api_tokens")).one()
    assert token not in map(str, stored)
    assert api_tokens.hash_token(token) in stored and stored.token_prefix == token[:12]
    assert token.startswith("cak_") and len(token) == 4 + 43


# -- no session, no CSRF, JSON everywhere ------------------------------------------------------


def test_no_session_cookie_and_the_admin_cookie_does_not_authenticate(client, login, token):
    make_customers(1)
    login("admin")  # the client now holds an admin session cookie
    assert_json_error(client.get(f"{API}/customers/T00001"), 401, "unauthorized")
    for response in (
        client.get(f"{API}/customers/T00001", headers=bearer(token)),
        client.post(f"{API}/customers/check", headers=bearer(token), json={"codes": ["T00001"]}),
        client.get(f"{API}/status-changes", headers=bearer(token)),
        client.get(f"{API}/openapi.json"),
        client.get(f"{API}/docs"),
        client.get(f"{API}/nowhere", headers=bearer(token)),
    ):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.csrf
def test_post_needs_no_csrf_token(api, app):
    make_customers(1)
    assert api.post(f"{API}/customers/check", json={"codes": ["T00001"]}).status_code == 200


def test_unknown_url_and_wrong_method_are_json(api):
    assert_json_error(api.get(f"{API}/nowhere"), 404, "not_found")
    response = api.post(f"{API}/status-changes")
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_json_error(api.get(f"{API}/customers/check"), 404, "not_found")  # no such code


def test_a_large_body_is_413_json(api):
    body = json.dumps({"codes": ["x" * 60] * 40_000})  # > MAX_CONTENT_LENGTH
    assert_json_error(
        api.post(f"{API}/customers/check", data=body, content_type="application/json"),
        413,
        "too_large",
    )


def test_an_unexpected_error_is_a_json_500_without_details(api, monkeypatch):
    from admin_app.services import status_api

    def explode(code):
        raise RuntimeError("SELECT secret FROM somewhere")

    monkeypatch.setattr(status_api, "customer_state", explode)
    body = assert_json_error(api.get(f"{API}/customers/T00001"), 500, "internal_error")
    assert "secret" not in body["message"]


def test_admin_pages_keep_their_html_errors(client, login):
    login("clerk")
    response = client.get("/admin/api-tokens/")
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert client.get("/admin/nowhere").mimetype == "text/html"


# -- GET /customers/<code> ---------------------------------------------------------------------


def test_lookup_of_an_active_customer(api, app):
    make_customers(1)
    response = api.get(f"{API}/customers/T00001")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {
        "code": "T00001",
        "name": "Test Customer 1",
        "status": "active",
        "can_trade": True,
        "status_reason": None,
        "status_changed_at": None,
        "pending_change": None,
    }


def test_lookup_after_a_deactivation_through_the_ui(api, client, login, reasons):
    ids = make_customers(2)
    deactivate_through_ui(client, login, ids[:1], reason="customer_request")
    body = api.get(f"{API}/customers/T00001").get_json()
    assert body["status"] == "deactivated" and body["can_trade"] is False
    assert body["status_reason"]["code"] == "customer_request"
    assert body["status_reason"]["label"]
    assert body["status_changed_at"].endswith("+00:00")
    assert body["pending_change"] is None
    assert api.get(f"{API}/customers/T00002").get_json()["can_trade"] is True
    checked = api.post(f"{API}/customers/check", json={"codes": ["T00001", "T00002", "NO"]})
    assert checked.status_code == 200
    # the answers have exactly the documented shapes
    CustomerStatusSchema().load(body)
    CheckResponseSchema().load(checked.get_json())
    assert checked.get_json()["results"][0] == {"found": True, **body}


@pytest.mark.parametrize("status", ["frozen", "deactivated"])
def test_only_active_customers_can_trade(api, app, status):
    make_customers(1, status=status)
    body = api.get(f"{API}/customers/T00001").get_json()
    assert body["status"] == status and body["can_trade"] is False


def test_lookup_of_an_unknown_or_too_long_code(api, app):
    make_customers(1)
    assert_json_error(api.get(f"{API}/customers/T99999"), 404, "not_found")
    assert_json_error(api.get(f"{API}/customers/t00001"), 404, "not_found")  # codes are exact
    assert_json_error(api.get(f"{API}/customers/" + "A" * 64), 404, "not_found")
    assert_json_error(api.get(f"{API}/customers/" + "A" * 65), 400, "invalid_input")


# -- POST /customers/check ---------------------------------------------------------------------


def test_check_reports_one_result_per_code_in_order(api, app):
    make_customers(2)
    make_customers(1, status="frozen", start=3)
    codes = ["T00003", "NOPE", "T00001", "T00001"]
    response = api.post(f"{API}/customers/check", json={"codes": codes})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["code"] for r in results] == codes
    assert results[1] == {"code": "NOPE", "found": False}
    assert (results[0]["found"], results[0]["status"], results[0]["can_trade"]) == (
        True,
        "frozen",
        False,
    )
    assert results[2]["can_trade"] is True and results[2] == results[3]


def test_check_runs_one_query_whatever_the_number_of_codes(api, app):
    make_customers(50)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM customers" in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        codes = [f"T{n:05d}" for n in range(1, 1001)]
        results = api.post(f"{API}/customers/check", json={"codes": codes}).get_json()["results"]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(results) == 1000 and sum(r["found"] for r in results) == 50
    assert len(seen) == 1


def test_check_accepts_1000_codes_and_refuses_1001_with_413(api, app):
    assert api.post(f"{API}/customers/check", json={"codes": ["A"] * 1000}).status_code == 200
    body = assert_json_error(
        api.post(f"{API}/customers/check", json={"codes": ["A"] * 1001}), 413, "too_large"
    )
    assert "1000" in body["message"]


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "",
        "null",
        "[]",
        '"codes"',
        "{}",
        '{"codes": []}',
        '{"codes": "T00001"}',
        '{"codes": [1]}',
        '{"codes": [null]}',
        '{"codes": [""]}',
        '{"codes": [["T00001"]]}',
        '{"codes": {"a": 1}}',
        '{"codes": ["' + "A" * 65 + '"]}',
        '{"codes": ["A"], "extra": 1}',
        '{"codes": ["A"]',
        "\xff\xfe",
    ],
)
def test_check_refuses_malformed_bodies_with_400(api, app, body):
    response = api.post(f"{API}/customers/check", data=body, content_type="application/json")
    error = assert_json_error(response, 400, "invalid_input")
    assert error["message"].startswith("The request is not valid")


def test_check_without_a_json_content_type_is_400(api, app):
    response = api.post(
        f"{API}/customers/check", data='{"codes": ["A"]}', content_type="text/plain"
    )
    assert_json_error(response, 400, "invalid_input")


# -- GET /status-changes -----------------------------------------------------------------------


def feed(api, after=None, limit=None):
    query = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    response = api.get(f"{API}/status-changes", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    FeedResponseSchema().load(response.get_json())  # the documented shape, exactly
    return response.get_json()


def test_a_deactivation_through_the_ui_appears_in_the_feed_exactly_once(
    api, client, login, reasons
):
    ids = make_customers(3)
    start = feed(api)
    assert start == {"items": [], "next": 0}
    deactivate_through_ui(client, login, ids[:2])
    first = feed(api, after=start["next"])
    assert [
        (i["customer_code"], i["from"], i["to"], i["action"], i["reason_code"])
        for i in first["items"]
    ] == [
        ("T00001", "active", "deactivated", "deactivate", "customer_request"),
        ("T00002", "active", "deactivated", "deactivate", "customer_request"),
    ]
    db.session.rollback()
    operation_id = db.session.execute(
        sa.select(sa.func.max(AuditOperation.id)).where(AuditOperation.action == "deactivate")
    ).scalar()
    assert {i["operation_id"] for i in first["items"]} == {operation_id}
    assert first["next"] == first["items"][-1]["cursor"]
    assert first["items"][0]["changed_at"].endswith("+00:00")
    # the stored cursor: the same changes never come again, the next ones do
    assert feed(api, after=first["next"]) == {"items": [], "next": first["next"]}
    deactivate_through_ui(client, login, ids)  # T00003 changes, the others are skipped
    second = feed(api, after=first["next"])
    assert [i["customer_code"] for i in second["items"]] == ["T00003"]
    everything = feed(api, limit=1000)["items"]
    assert [i["customer_code"] for i in everything] == ["T00001", "T00002", "T00003"]


def test_the_feed_pages_by_cursor_without_gaps_or_repeats(api, app, reasons):
    from admin_app.services.audit import NewOperation, append_operation
    from admin_app.services.transaction import write_transaction

    make_customers(7)
    api_tokens.create_token("noise", expires_days=None, actor=Actor.cli())  # not a status change
    # seven status entries (each with a non-status entry beside it) as the log writes them
    for number in range(1, 8):
        with write_transaction():
            append_operation(
                NewOperation(
                    actor=Actor.cli(),
                    action="freeze",
                    entries=[
                        ("customer", number, f"T{number:05d}", "status", "active", "frozen"),
                        ("customer", number, f"T{number:05d}", "name", "a", "b"),
                    ],
                )
            )
    seen, after = [], 0
    while True:
        page = feed(api, after=after, limit=3)
        if not page["items"]:
            break
        assert len(page["items"]) <= 3
        seen += [i["customer_code"] for i in page["items"]]
        after = page["next"]
    assert seen == [f"T{n:05d}" for n in range(1, 8)]


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=abc",
        "after=1.5",
        "after=",
        "after=99999999999999999999999",
        "limit=0",
        "limit=1001",
        "limit=x",
        "limit=-5",
        "cursor=3",
    ],
)
def test_feed_refuses_bad_cursors_and_limits_with_400(api, query):
    assert_json_error(api.get(f"{API}/status-changes?{query}"), 400, "invalid_input")


def test_feed_query_is_a_range_scan_of_the_entries_primary_key(app, backend):
    from admin_app.services.audit import NewOperation, append_operation
    from admin_app.services.transaction import write_transaction

    # A log with statistics: 20,000 entries, most of them status changes of customers.
    entries = [
        ("customer", n, f"T{n:05d}", "status" if n % 10 else "name", "active", "frozen")
        for n in range(1, 20_001)
    ]
    with write_transaction():
        append_operation(NewOperation(actor=Actor.cli(), action="freeze", entries=entries))
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    statement = feed_query(5000, 1000, backend).compile(db.engine)
    sql, params = str(statement), statement.params
    with db.engine.connect() as conn:
        if backend == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {sql}", tuple(params[k] for k in statement.positiontup)
                )
            )
            assert "SEARCH audit_entries USING INTEGER PRIMARY KEY (rowid>?)" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
            assert "Index Scan using pk_audit_entries on audit_entries" in plan, plan
            assert "Sort" not in plan, plan


# -- read-only ---------------------------------------------------------------------------------


def test_api_calls_never_change_data(api, client, login, reasons, token):
    ids = make_customers(3)
    deactivate_through_ui(client, login, ids[:1])
    before = table_snapshot()
    feed(api)
    api.get(f"{API}/customers/T00001")
    api.get(f"{API}/customers/NOPE")
    api.post(f"{API}/customers/check", json={"codes": ["T00001", "T00002", "NOPE"]})
    api.post(f"{API}/customers/check", json={"codes": 5})
    api.post(f"{API}/status-changes")
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{API}/customers/T00001", headers=bearer(token))
        assert response.status_code == 405
    assert table_snapshot() == before


# -- rate limit --------------------------------------------------------------------------------


@pytest.mark.config(
    RATELIMIT_ENABLED=True, API_RATE_LIMIT="2/minute", RATELIMIT_STORAGE_URI="memory://"
)
def test_rate_limit_per_token_answers_429_with_retry_after(client, app, token):
    make_customers(1)
    other = new_token("crm")
    path = f"{API}/customers/T00001"
    assert [client.get(path, headers=bearer(token)).status_code for _ in range(2)] == [200, 200]
    response = client.get(path, headers=bearer(token))
    assert_json_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get(path, headers=bearer(other)).status_code == 200  # per token


# -- OpenAPI and docs --------------------------------------------------------------------------


def test_openapi_document_is_generated_from_the_code(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/customers/{code}", "/api/v1/customers/check", "/api/v1/status-changes"} <= set(
        spec["paths"]
    )
    check = spec["paths"]["/api/v1/customers/check"]["post"]
    assert "413" in check["responses"] and "requestBody" in check
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    feed_schema = spec["components"]["schemas"]["StatusChange"]["properties"]
    assert {
        "cursor",
        "customer_code",
        "from",
        "to",
        "operation_id",
        "action",
        "reason_code",
        "changed_at",
    } <= set(feed_schema)


def test_docs_page_needs_no_external_assets(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/api/v1/customers/check" in page and "https://" not in page and "<script" not in page


# -- fuzz: no input gives a 500 ----------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=80)
    | st.just([])
    | st.just({}),
    lambda inner: (
        st.lists(inner, min_size=1, max_size=5)
        | st.dictionaries(st.text(max_size=8), inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    body=st.one_of(
        JSON_VALUES.map(json.dumps),
        st.fixed_dictionaries({"codes": JSON_VALUES}).map(json.dumps),
        st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    )
)
def test_fuzz_check_never_500(api, body):
    response = api.post(
        f"{API}/customers/check",
        data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
    )
    assert response.status_code in (200, 400, 413), response.get_data(as_text=True)
    assert response.mimetype == "application/json"


@FUZZ
@given(
    code=st.text(min_size=1, max_size=100), after=st.text(max_size=30), limit=st.text(max_size=30)
)
def test_fuzz_lookup_and_feed_never_500(api, code, after, limit):
    from urllib.parse import quote

    lookup = api.get(f"{API}/customers/{quote(code, safe='')}")
    assert lookup.status_code in (400, 404), lookup.get_data(as_text=True)
    page = api.get(f"{API}/status-changes", query_string={"after": after, "limit": limit})
    assert page.status_code in (200, 400), page.get_data(as_text=True)
    assert lookup.mimetype == page.mimetype == "application/json"


def test_a_code_with_a_nul_character_is_unknown_not_an_error(api, app):
    """Found by the fuzz test on PostgreSQL, whose text cannot hold NUL: a 500 before."""
    lookup = api.get(f"{API}/customers/A%00B")
    assert lookup.status_code == 404, lookup.get_data(as_text=True)
    check = api.post(f"{API}/customers/check", json={"codes": ["A\x00B", "NOPE"]})
    assert check.status_code == 200, check.get_data(as_text=True)
    assert [r["found"] for r in check.get_json()["results"]] == [False, False]


# -- the example consumer in docs/ -------------------------------------------------------------


@pytest.fixture
def example(client, monkeypatch):
    """docs/api_consumer_example.py, its `requests` calls answered by the app in-process."""
    import importlib.util
    from pathlib import Path

    import requests

    path = Path(__file__).resolve().parent.parent / "docs" / "api_consumer_example.py"
    spec = importlib.util.spec_from_file_location("api_consumer_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def request(session, method, url, params=None, json=None, timeout=None, **kwargs):
        answer = client.open(
            url.removeprefix("http://app"),
            method=method,
            query_string=params,
            json=json,
            headers=dict(session.headers),
        )
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.data
        response.headers.update(answer.headers)
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    return module


def test_example_consumer_follows_the_feed_with_its_cursor_file(
    example, token, client, login, reasons, tmp_path, capsys
):
    ids = make_customers(3)
    api = example.StatusApi("http://app", token)
    cursor_file = tmp_path / "feed.cursor"
    deactivate_through_ui(client, login, ids[:2])
    example.follow(api, cursor_file, forever=False, poll_seconds=0)
    first = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in first] == ["T00001:", "T00002:"]
    assert all("active -> deactivated" in line and line.endswith("BLOCK") for line in first)
    example.follow(api, cursor_file, forever=False, poll_seconds=0)  # a restart: nothing again
    assert capsys.readouterr().out == ""
    deactivate_through_ui(client, login, ids)
    example.follow(api, cursor_file, forever=False, poll_seconds=0)
    assert [line.split()[2] for line in capsys.readouterr().out.splitlines()] == ["T00003:"]
    assert int(cursor_file.read_text()) > 0
    assert api.customer("T00001")["can_trade"] is False and api.customer("NOPE") is None
    checked = api.check(["T00001", "NOPE"])
    assert checked["NOPE"] == {"code": "NOPE", "found": False}
    assert checked["T00001"]["status"] == "deactivated"
