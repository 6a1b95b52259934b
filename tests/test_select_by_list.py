"""Select by list: paste or upload customer codes, then the grid's confirmation page."""

import io
import json
import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, StatusChangeRequest
from admin_app.services import code_list
from admin_app.services.errors import InvalidInput, TooLarge
from tests.conftest import TOKEN_RE, add_customer, confirm_action, make_customers, statuses

URL = "/admin/customers/select-by-list/"


def text(response):
    return response.get_data(as_text=True)


def operation_count():
    db.session.rollback()
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(AuditOperation)
        .where(AuditOperation.action.in_(["deactivate", "freeze", "reactivate"]))
    ).scalar()


def request_count():
    db.session.rollback()
    return db.session.execute(sa.select(sa.func.count()).select_from(StatusChangeRequest)).scalar()


def xlsx_bytes(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def paste(client, codes: str, action="freeze", **extra):
    return client.post(URL, data={"codes": codes, "action": action, **extra})


def upload(client, name: str, data: bytes, action="freeze", column=""):
    return client.post(
        URL,
        data={"file": (io.BytesIO(data), name), "action": action, "column": column},
        content_type="multipart/form-data",
    )


# -- parsing (no database) -----------------------------------------------------------------


def test_excel_column_copy_with_crlf_and_quotes():
    parsed = code_list.parse_text('T00001\r\nt00002\r\n"T00003"\r\n\r\nT00001\r\n')
    assert parsed.codes == ["T00001", "t00002", "T00003"]
    assert (parsed.listed, parsed.duplicates) == (4, 1)


def test_any_mix_of_separators_including_full_width():
    parsed = code_list.parse_text("\ufeffA1, A2;A3\tA4 A5，A6、A7；A8\u3000'A9'")
    assert parsed.codes == [f"A{n}" for n in range(1, 10)]


def test_csv_with_bom_crlf_and_header_picked_by_name_or_number():
    data = "\ufeffname,Code\r\nAlpha,T00001\r\nBeta,t00002\r\nGamma,T00001\r\n".encode()
    assert code_list.parse_csv(data).codes == ["T00001", "t00002"]  # the "code" header
    assert code_list.parse_csv(data, "code").codes == ["T00001", "t00002"]
    assert code_list.parse_csv(data, "1").codes == ["Alpha", "Beta", "Gamma"]
    with pytest.raises(InvalidInput, match="no column named “number”"):
        code_list.parse_csv(data, "number")
    with pytest.raises(InvalidInput, match="no column named “²”"):  # "²".isdigit() is True
        code_list.parse_csv(data, "²")


def test_csv_in_gbk_with_semicolons():
    data = "客户编号;名称\r\nT00001;甲\r\nT00002;乙\r\n".encode("gb18030")
    assert code_list.parse_csv(data).codes == ["T00001", "T00002"]


def test_xlsx_with_a_header_row_and_numeric_codes():
    data = xlsx_bytes([["Name", "Customer code"], ["A", "T00001"], ["B", 10023], ["C", None]])
    assert code_list.parse_file("list.xlsx", data, "customer code").codes == ["T00001", "10023"]


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)"])
def test_formula_looking_cells_are_refused(cell):
    with pytest.raises(InvalidInput, match="looks like a spreadsheet formula"):
        code_list.parse_text(f"T00001\n{cell}")
    with pytest.raises(InvalidInput, match="looks like a spreadsheet formula"):
        code_list.parse_file("list.xlsx", xlsx_bytes([["code"], ["T00001"], [cell]]))


def test_limits():
    with pytest.raises(TooLarge, match="At most 100,000 codes"):
        code_list.parse_text("\n".join(f"C{n}" for n in range(100_001)))
    assert len(code_list.parse_text("\n".join(f"C{n}" for n in range(100_000))).codes) == 100_000
    with pytest.raises(InvalidInput, match="longer than 64 characters"):
        code_list.parse_text("T00001 " + "X" * 65)
    assert code_list.parse_text("X" * 64).codes == ["X" * 64]
    for empty in ("", " \r\n,,;\t", '""'):
        with pytest.raises(InvalidInput, match="no customer codes"):
            code_list.parse_text(empty)


def test_a_sheet_of_mostly_blank_rows_is_refused(monkeypatch):
    monkeypatch.setattr(code_list, "MAX_ROWS", 5)
    with pytest.raises(TooLarge, match="At most 100,000 codes"):
        code_list.parse_file("list.xlsx", xlsx_bytes([["code"], ["T1"]] + [[None, "x"]] * 5))
    assert code_list.parse_file("list.csv", b"code\nT1\n\n\n\nT2\n").codes == ["T1", "T2"]


@pytest.mark.parametrize(
    "name, data",
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        ("list.csv", b"\x00\x01\x02binary\x00"),
        ("list.xlsx", b"PK\x03\x04 not really a workbook"),
        ("report.pdf", b"%PDF-1.4"),
    ],
)
def test_files_that_are_not_csv_or_xlsx_are_refused(name, data):
    with pytest.raises(InvalidInput, match="not a CSV or XLSX file"):
        code_list.parse_file(name, data)


# -- lookup --------------------------------------------------------------------------------


def test_lookup_is_case_insensitive_with_unknown_codes_and_suggestions(app):
    ids = make_customers(3)  # T00001..T00003
    found = code_list.look_up(["t00001", "T00002", "T00009", "T0000", "ZZZ"])
    assert sorted(found.ids) == ids[:2]
    assert found.found == 2
    assert found.unknown == ["T00009", "T0000", "ZZZ"]
    assert found.suggestions == {
        "T00009": ["T00001", "T00002", "T00003"],
        "T0000": ["T00001", "T00002", "T00003"],
    }


def test_lookup_runs_one_query_per_chunk(app, monkeypatch):
    make_customers(12)
    monkeypatch.setattr(code_list, "LOOKUP_CHUNK", 5)
    monkeypatch.setattr(code_list, "MAX_UNKNOWN_SHOWN", 0)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = code_list.look_up([f"t{n:05d}" for n in range(1, 13)] + ["nope"])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert result.found == 12
    lookups = [s for s in statements if "lower(customers.code)" in s.lower()]
    assert len(lookups) == 3  # 13 codes in chunks of 5


# -- the page ------------------------------------------------------------------------------


def test_paste_confirm_changes_the_listed_customers_and_logs_the_list(admin_client):
    ids = make_customers(4)  # T00001..T00004
    frozen = add_customer("F00001", status="frozen")
    page = paste(admin_client, "t00001\r\nT00002, T00003\r\nT00002\r\nF00001\r\nT00009\r\n")
    body = text(page)
    assert page.status_code == 200
    assert "3 customers will change to Frozen." in body
    assert "already frozen: 1" in body
    assert "List of 6 codes (4 found)." in body
    assert "1 duplicate counted once." in body
    assert re.search(
        r'<li data-code="T00009"><code>T00009</code> — did you mean '
        r"T00001, T00002, T00003\?</li>",
        body,
    )
    assert statuses(ids) == {i: "active" for i in ids}
    assert operation_count() == 0

    token = TOKEN_RE.search(body).group(1)
    done = confirm_action(admin_client, token, memo="finance list")
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/customers/"
    assert statuses(ids + [frozen]) == {
        ids[0]: "frozen",
        ids[1]: "frozen",
        ids[2]: "frozen",
        ids[3]: "active",
        frozen: "frozen",
    }
    grid = text(admin_client.get(done.headers["Location"]))
    assert "Froze 3 customers, skipped 1 (already frozen: 1)." in grid
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "freeze")
    ).scalar_one()
    assert (operation.changed_count, operation.skipped_count, operation.memo) == (
        3,
        1,
        "finance list",
    )
    scope = json.loads(operation.scope)
    assert {k: scope[k] for k in ("mode", "listed", "found", "duplicates", "unknown")} == {
        "mode": "list",
        "listed": 6,
        "found": 4,
        "duplicates": 1,
        "unknown": ["T00009"],
    }
    entries = db.session.execute(
        sa.select(AuditEntry.entity_label, AuditEntry.old_value, AuditEntry.new_value)
        .where(AuditEntry.operation_id == operation.id)
        .order_by(AuditEntry.entity_label)
    ).all()
    assert entries == [
        ("T00001", "active", "frozen"),
        ("T00002", "active", "frozen"),
        ("T00003", "active", "frozen"),
    ]
    log = text(admin_client.get(f"/admin/audit/details/?id={operation.id}"))
    assert "&#34;listed&#34;: 6" in log or '"listed": 6' in log


def test_upload_csv_and_xlsx(admin_client):
    ids = make_customers(3)
    csv_page = upload(
        admin_client,
        "list.csv",
        "\ufeffcode,name\r\nT00001,a\r\nT00002,b\r\n".encode(),
        "deactivate",
    )
    assert "2 customers will change to Deactivated." in text(csv_page)
    assert "List of 2 codes (2 found)." in text(csv_page)
    xlsx = xlsx_bytes([["Name", "Kundennummer"], ["a", "T00003"], ["b", "t00001"]])
    xlsx_page = upload(admin_client, "list.xlsx", xlsx, "freeze", column="2")
    assert "2 customers will change to Frozen." in text(xlsx_page)
    assert statuses(ids) == {i: "active" for i in ids}


@pytest.mark.parametrize(
    "codes, status, message",
    [
        ("", 422, "The list has no customer codes. Nothing was changed."),
        ("T00001\n=cmd|' /C calc'!A0", 422, "looks like a spreadsheet formula"),
        ("T00001 " + "Y" * 65, 422, "longer than 64 characters"),
        ("NOPE1\nNOPE2", 422, "None of the 2 codes names a customer. Nothing was changed."),
        ("\n".join(f"C{n}" for n in range(100_001)), 413, "At most 100,000 codes per list."),
    ],
)
def test_bad_lists_rerender_the_form_and_change_nothing(admin_client, codes, status, message):
    ids = make_customers(1)
    response = paste(admin_client, codes)
    assert response.status_code == status
    body = text(response)
    assert message in body
    assert 'id="select-by-list-form"' in body
    if len(codes) < 1000:
        assert f">{codes.replace(chr(39), '&#39;')}</textarea>" in body  # the input is kept
    assert 'value="freeze" required\n               checked' in body
    assert statuses(ids) == {ids[0]: "active"}
    assert request_count() == 0 and operation_count() == 0


def test_only_unknown_codes_lists_them_with_suggestions(admin_client):
    make_customers(1)
    body = text(paste(admin_client, "T00002"))
    assert '<li data-code="T00002"><code>T00002</code> — did you mean T00001?</li>' in body


def test_a_file_over_10_mb_is_a_413_on_the_page(admin_client):
    make_customers(1)
    data = b"code\n" + b"T00001\n" * ((10 * 1024 * 1024) // 7)
    data += b"x" * (10 * 1024 * 1024 + 1 - len(data))
    response = upload(admin_client, "big.csv", data)
    assert response.status_code == 413
    assert "The file is larger than 10 MB." in text(response)
    assert 'id="select-by-list-form"' in text(response)
    assert request_count() == 0


def test_a_body_far_over_the_limit_is_a_413_on_the_page(admin_client):
    response = upload(admin_client, "big.csv", b"x" * (12 * 1024 * 1024))
    assert response.status_code == 413
    assert "The file is larger than 10 MB." in text(response)


def test_a_pasted_list_larger_than_the_app_wide_limit_is_accepted(admin_client):
    make_customers(2)
    codes = "T00001\n" + "\n".join(f"UNKNOWN{n:07d}" for n in range(90_000))  # ~1.4 MB
    response = paste(admin_client, codes)
    assert response.status_code == 200
    assert "List of 90,001 codes (1 found)." in text(response)


def test_uploads_are_never_written_to_a_temporary_file(admin_client, monkeypatch):
    import werkzeug.formparser

    def refuse(*args, **kwargs):
        raise AssertionError("an upload went to a temporary file")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", refuse)
    make_customers(1)
    data = b"code\n" + b"T00001\n" + b"".join(b"U%07d\n" % n for n in range(90_000))  # 810 KB
    response = upload(admin_client, "big.csv", data)
    assert response.status_code == 200
    assert "List of 90,001 codes (1 found)." in text(response)


def test_other_file_types_are_refused(admin_client):
    response = upload(admin_client, "photo.png", b"\x89PNG\r\n\x1a\n")
    assert response.status_code == 422
    assert "The file is not a CSV or XLSX file." in text(response)


def test_unknown_action_is_refused(admin_client):
    make_customers(1)
    response = paste(admin_client, "T00001", action="delete")
    assert response.status_code == 422
    assert "Unknown action." in text(response)
    missing = paste(admin_client, "T00001", action="")
    assert missing.status_code == 422
    assert "Choose an action." in text(missing)


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_roles_without_change_status_get_403(client, login, reasons, role, caplog):
    ids = make_customers(1)
    login(role)
    assert client.get(URL).status_code == 403
    assert paste(client, "T00001").status_code == 403
    assert statuses(ids) == {ids[0]: "active"}
    assert request_count() == 0
    assert 'id="select-by-list-link"' not in text(client.get("/admin/customers/"))
    assert any("access_denied" in r.getMessage() for r in caplog.records)


def test_managers_see_the_button_and_the_form(client, login, reasons):
    login("manager")
    assert 'id="select-by-list-link"' in text(client.get("/admin/customers/"))
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="codes"' in text(page) and 'name="file"' in text(page)


def test_logged_out_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def csrf_login(client, login):
    page = text(client.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert login("admin", csrf_token=token).status_code == 302


@pytest.mark.csrf
def test_post_without_csrf_token_changes_nothing(client, login, reasons):
    csrf_login(client, login)
    ids = make_customers(1)
    response = paste(client, "T00001")
    assert response.status_code == 400
    assert request_count() == 0
    assert statuses(ids) == {ids[0]: "active"}


@pytest.mark.csrf
def test_post_with_csrf_token_works_and_a_big_body_is_still_a_413_page(client, login, reasons):
    csrf_login(client, login)
    make_customers(1)
    form = text(client.get(URL))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = paste(client, "T00001", csrf_token=token)
    assert response.status_code == 200
    assert "1 customer will change to Frozen." in text(response)
    big = client.post(
        URL,
        data={
            "file": (io.BytesIO(b"x" * (12 * 1024 * 1024)), "a.csv"),
            "action": "freeze",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert big.status_code == 413
    assert "The file is larger than 10 MB." in text(big)


# -- the CLI -------------------------------------------------------------------------------


def test_cli_dry_run_prints_the_preview_and_changes_nothing(runner, reasons, tmp_path):
    ids = make_customers(3)
    add_customer("F00001", status="frozen")
    codes = tmp_path / "codes.txt"
    codes.write_text("T00001\nt00002\nT00002\nF00001\nT00009\n")
    result = runner.invoke(
        args=[
            "customers",
            "change-status",
            "--action",
            "freeze",
            "--reason",
            "customer_request",
            "--codes-file",
            str(codes),
            "--dry-run",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "List of 5 codes (3 found, 1 duplicate(s) counted once)." in result.output
    assert "  T00009 (did you mean T00001, T00002, T00003?)" in result.output
    assert "Will freeze: 2 customer(s)." in result.output
    assert "Skipped: 1 (1 already frozen)." in result.output
    assert "Dry run: nothing was changed." in result.output
    assert statuses(ids) == {i: "active" for i in ids}
    assert operation_count() == 0


def test_cli_real_run_with_yes_logs_source_cli(runner, reasons, tmp_path):
    ids = make_customers(3)
    codes = tmp_path / "codes.csv"
    codes.write_bytes("\ufeffcode\r\nT00001\r\nT00003\r\n".encode())
    result = runner.invoke(
        args=[
            "customers",
            "change-status",
            "--action",
            "deactivate",
            "--reason",
            "customer_request",
            "--memo",
            "nightly job",
            "--codes-file",
            str(codes),
            "--yes",
        ]
    )
    assert result.exit_code == 0, result.output
    operation = db.session.execute(
        sa.select(AuditOperation).where(AuditOperation.action == "deactivate")
    ).scalar_one()
    assert f"Deactivated 2 customer(s). Operation #{operation.id}." in result.output
    assert statuses(ids) == {ids[0]: "deactivated", ids[1]: "active", ids[2]: "deactivated"}
    assert (operation.source, operation.actor_username, operation.memo) == (
        "cli",
        "system",
        "nightly job",
    )
    assert '"listed":2' in operation.scope.replace(" ", "")


def test_cli_asks_before_changing(runner, reasons, tmp_path):
    ids = make_customers(1)
    codes = tmp_path / "codes.txt"
    codes.write_text("T00001")
    args = [
        "customers",
        "change-status",
        "--action",
        "freeze",
        "--reason",
        "customer_request",
        "--codes-file",
        str(codes),
    ]
    refused = runner.invoke(args=args, input="n\n")
    assert refused.exit_code == 1
    assert statuses(ids) == {ids[0]: "active"}
    accepted = runner.invoke(args=args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert statuses(ids) == {ids[0]: "frozen"}


@pytest.mark.parametrize(
    "content, reason, message",
    [
        ("NOPE", "customer_request", "none of the codes names a customer"),
        ("", "customer_request", "The list has no customer codes."),
        ("T00001", "no_such_reason", "This reason cannot be used for this action."),
        ("=1+1", "customer_request", "looks like a spreadsheet formula"),
    ],
)
def test_cli_errors_exit_1_and_change_nothing(runner, reasons, tmp_path, content, reason, message):
    ids = make_customers(1)
    codes = tmp_path / "codes.txt"
    codes.write_text(content)
    result = runner.invoke(
        args=[
            "customers",
            "change-status",
            "--action",
            "freeze",
            "--reason",
            reason,
            "--codes-file",
            str(codes),
            "--yes",
        ]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert statuses(ids) == {ids[0]: "active"}
    assert operation_count() == 0
