"""The base views every admin view inherits: access from the permission table, CSRF through
Flask-WTF, explicit 403s instead of Flask-Admin's silent redirects, safe export values."""

import enum
import io
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.form import _Auto
from markupsafe import Markup, escape
from werkzeug.utils import secure_filename

from admin_app.admin.forms import show_field_error
from admin_app.extensions import db
from admin_app.i18n import TranslatedForm
from admin_app.roles import Permission, has_permission
from admin_app.security_log import security_event
from admin_app.services.errors import ServiceError
from admin_app.services.input_rules import parse_id
from admin_app.spreadsheet import escape_spreadsheet_formula
from admin_app.timefmt import local_time
from admin_app.web import format_money, view_url

MAX_PAGE = 100_000


def xlsx_cell_value(value):
    """A value as an XLSX cell holds it: numbers and dates stay typed (dates in UTC, without
    a zone, which XLSX cannot store), enums become their value, None stays empty."""
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def xlsx_response(header, rows, filename: str) -> Response:
    """An XLSX attachment of `rows`: typed cells, and text cells always text (a value that
    starts with "=" is written as a string, never as a formula, so nothing needs a quote)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    bold = Font(bold=True)

    def cell(value, font=None):
        value = xlsx_cell_value(value)
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        written = WriteOnlyCell(sheet, value=value)
        if written.data_type == "f":
            written.data_type = "s"
        if font is not None:
            written.font = font
        return written

    sheet.append([cell(str(title), bold) for title in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    stream = io.BytesIO()
    workbook.save(stream)
    return Response(
        stream.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment;filename={filename}"},
    )


def _format_datetime(view, value, name):
    return local_time(value)


def _format_date(view, value, name):
    return format_date(value, "medium")


def _format_money(view, value, name):
    return format_money(value)


def _export_datetime(view, value, name):
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _export_date(view, value, name):
    return value.isoformat()


def _format_bool(view, value, name):
    """Flask-Admin's check or minus icon, named "Yes" / "No" in the reader's language (its own
    says "enabled: true" on hover)."""
    word = _("Yes") if value else _("No")
    icon = "fa-check-circle" if value else "fa-minus-circle"
    return Markup(
        '<span class="fa {}" title="{}" aria-hidden="true"></span><span class="sr-only">{}</span>'
    ).format(icon, word, word)


# Times in the viewer's zone and language, dates in the language, amounts as money, yes or no
# in words: in lists and on details pages alike (Flask-Admin's own detail formatters print the
# stored value).
_SHOWN = {
    datetime: _format_datetime,
    date: _format_date,
    Decimal: _format_money,
    bool: _format_bool,
}
TYPE_FORMATTERS = {**typefmt.BASE_FORMATTERS, **_SHOWN}
DETAIL_TYPE_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, **_SHOWN}
EXPORT_TYPE_FORMATTERS = {
    **typefmt.EXPORT_FORMATTERS,
    datetime: _export_datetime,
    date: _export_date,
}


def deny(message: str | None = None, **event_fields):
    """Refuse the request: 403 for a logged-in user, the login page for anyone else.
    Either way one security event is logged (with `event_fields`)."""
    if not current_user.is_authenticated:
        security_event("login_required", level=logging.INFO, **event_fields)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    security_event("access_denied", role=current_user.role, **event_fields)
    abort(403, description=message or _("You are not allowed to do this."))


class AdminForm(TranslatedForm):
    """Flask-WTF's CSRF for admin forms, plus the `_obj` Flask-Admin's Unique validator reads."""

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class PermissionMixin:
    """`required_permission` decides who may open the view at all."""

    required_permission: Permission = Permission.VIEW_CUSTOMERS

    def can(self, permission: Permission) -> bool:
        return has_permission(current_user, permission)

    def is_accessible(self) -> bool:
        return self.can(self.required_permission)

    def inaccessible_callback(self, name, **kwargs):
        return deny()

    def get_url(self, endpoint: str, **kwargs) -> str:
        return view_url(endpoint, **kwargs)


class SecureIndexView(PermissionMixin, AdminIndexView):
    pass


class SecureBaseView(PermissionMixin, BaseView):
    pass


class SecureModelView(PermissionMixin, ModelView):
    """Read-only unless a subclass grants `edit_permission`; no delete anywhere."""

    form_base_class = AdminForm
    edit_permission: Permission | None = None
    can_delete = False
    can_view_details = True
    details_template = "admin/details_base.html"
    edit_template = "admin/edit_base.html"
    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100, 500)
    export_types = ["csv", "xlsx"]
    export_max_rows = 100_000
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS

    def get_filter_arg(self, index: int, flt) -> str:
        """A filter's name in URLs (`flt0_segment_equals`), from its English label whatever the
        page's language: Flask-Admin names it after the label as translated for the request, but
        reads it back by the names it made at start-up, in English, so on a Chinese page every
        sort, page and page-size link lost the list's filters."""
        with force_locale("en"):
            return super().get_filter_arg(index, flt)

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    @property
    def can_create(self) -> bool:
        return self.edit_permission is not None and self.can(self.edit_permission)

    @property
    def can_edit(self) -> bool:
        return self.edit_permission is not None and self.can(self.edit_permission)

    column_editable_list = None  # inline edits would bypass the services (and can_edit)

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete":
            return False
        return super().is_action_allowed(name)

    # Flask-Admin answers a refused create/edit/delete with a silent redirect; say 403.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            return deny()
        response = super().create_view()
        self._name_the_saved_record(g.pop("created_record", None), created=True)
        return self._with_refusal_status(response)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        if not self.can_edit:
            return deny()
        response = super().edit_view()
        if request.method == "POST":
            self._name_the_saved_record(self.get_one(request.args.get("id")), created=False)
        return self._with_refusal_status(response)

    # ...and a disabled details page or export with a silent redirect; say 404.
    @expose("/details/")
    def details_view(self):
        if not self.can_view_details:
            abort(404)
        return super().details_view()

    @expose("/export/<export_type>/")
    def export(self, export_type):
        if not self.can_export or export_type not in self.export_types:
            abort(404)
        return super().export(export_type)

    def saved_message(self, model, *, created: bool) -> str:
        """The flash after a save, naming the record (a subclass may say it better)."""
        if created:
            return _("%(record)s created.", record=self.record_name(model))
        return _("%(record)s saved.", record=self.record_name(model))

    def record_name(self, model) -> str:
        """How a record is named to a reader (its label in the reader's language, never a
        Python repr)."""
        return str(model)

    def _name_the_saved_record(self, model, *, created: bool) -> None:
        """Replace Flask-Admin's "Record was successfully saved." with saved_message()."""
        from flask_admin.babel import gettext as admin_gettext

        flashes = session.get("_flashes")
        if model is None or not flashes:
            return
        generic = admin_gettext(
            "Record was successfully created." if created else "Record was successfully saved."
        )
        if g.pop("nothing_saved", False):
            session["_flashes"] = [
                (category, text) for category, text in flashes if text != generic
            ]
            return
        message = self.saved_message(model, created=created)
        session["_flashes"] = [
            (category, message if text == generic else text) for category, text in flashes
        ]

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        return deny()

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        return deny()

    @expose("/action/", methods=("POST",))
    def action_view(self):
        actions = request.form.getlist("action")
        if len(actions) != 1 or actions[0] not in self._actions_data:
            abort(400, description=_("Unknown action."))
        if not self.is_action_allowed(actions[0]):
            return deny(
                self.action_denied_message(actions[0]),
                action=actions[0],
                ids=len(request.form.getlist("rowid")),
            )
        return super().action_view()

    # Forms write through a service (which logs the change); a refusal is shown on the form,
    # with the service's status (400, 409) where the view sets `refusal_status`, else 200.
    refusal_status = False

    def create_through_service(self, create, form=None):
        """`create()` returns the new row or its id; False (form shown again) on refusal."""
        try:
            created = create()
        except ServiceError as exc:
            self._refused(exc, form)
            return False
        record = self.get_one(str(created)) if isinstance(created, int) else created
        g.created_record = record
        return record

    def update_through_service(self, update, form=None) -> bool:
        """`update()` returns how much changed; False (form shown again) on refusal."""
        try:
            changed = update()
        except ServiceError as exc:
            self._refused(exc, form)
            return False
        if not changed:
            flash(_("Nothing changed."), "info")
            g.nothing_saved = True  # no "… saved." beside it (_name_the_saved_record)
        return True

    def _refused(self, exc: ServiceError, form=None) -> None:
        """The refusal next to the field it names (the form is shown again), else on top."""
        if form is None or not show_field_error(form, exc):
            flash(exc.message, "error")
        g.form_refusal_status = exc.http_status

    def _with_refusal_status(self, response):
        status = g.pop("form_refusal_status", None)
        if self.refusal_status and status is not None and isinstance(response, str):
            return response, status
        return response

    def get_one(self, id):
        # Flask-Admin hands ?id= to the database as is: "abc" or 2**40 is a 500 on PostgreSQL.
        row_id = parse_id(id) if isinstance(id, str) else None
        return None if row_id is None else super().get_one(str(row_id))

    def action_denied_message(self, name: str) -> str | None:
        """What a user who may not run action `name` is told (None: the generic message)."""
        return None

    def _get_list_extra_args(self):
        # ?page=-1 is a negative OFFSET (PostgreSQL refuses it) and a 20-digit page overflows
        # SQLite's integers: both were 500s.
        view_args = super()._get_list_extra_args()
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE)
        return view_args

    def get_export_value(self, model, name):
        if g.get("export_typed"):  # XLSX: the value itself (see xlsx_response)
            formatter = self.column_formatters_export.get(name)
            if formatter is not None:
                return formatter(self, None, model, name)
            return self._get_field_value(model, name)
        return escape_spreadsheet_formula(super().get_export_value(model, name))

    def _export_tablib(self, export_type: str, return_url: str):
        if export_type != "xlsx":
            return super()._export_tablib(export_type, return_url)
        _count, data = self._export_data()
        g.export_typed = True
        try:
            rows = [
                [self.get_export_value(row, name) for name, _label in self._export_columns]
                for row in data
            ]
        finally:
            g.export_typed = False
        return xlsx_response(
            [label for _name, label in self._export_columns],
            rows,
            secure_filename(self.get_export_name("xlsx")),
        )

    def _get_filter_groups(self):
        # The filters and their options are fixed when the view is built; only their labels
        # depend on the language. Resolve them once per language, not on every list page.
        if any(callable(getattr(f, "options", None)) for f in self._filters or ()):
            return super()._get_filter_groups()
        cache = self.__dict__.setdefault("_filter_groups_by_locale", {})
        locale = str(get_locale())
        if locale not in cache:
            cache[locale] = super()._get_filter_groups()
        return cache[locale]

    # -- list pages: rows built in Python (admin/list_rows.py, templates/admin/list_base.html)

    def list_cell_renderers(self) -> dict:
        """Column name -> function(model) giving the cell's text or Markup, for columns whose
        Flask-Admin formatting is slow on many rows (a subclass builds them per page)."""
        return {}

    def render(self, template, **kwargs):
        if template == self.list_template and kwargs.get("actions") and not kwargs.get("data"):
            # An empty list has nothing to act on: no "With selected" menu, no checkboxes. The
            # list's kept tail still gets the view's actions (it serves its full pages too).
            kwargs["actions_of_view"], kwargs["actions"] = kwargs["actions"], []
        return super().render(template, **kwargs)

    def list_rows_html(self, data, list_columns, row_actions, return_url, with_checkbox):
        from admin_app.admin.list_rows import render_rows

        return render_rows(
            self,
            data,
            list_columns,
            row_actions=row_actions,
            return_url=return_url,
            with_checkbox=bool(with_checkbox),
        )

    def handle_view_exception(self, exc):
        # Never flash database text (Flask-Admin shows str(exc) with SQL and parameters).
        current_app.logger.exception("admin view error in %s", self.endpoint)
        return False


def list_tabs(view, param: str, current: Any, tabs: Iterable[dict]) -> list[dict]:
    """The tabs over a list page (customers by status, review candidates by rule, the log by
    kind): each tab dict gives its `value` (None: the default tab, no `param` in its address),
    `label` and optionally `count` and other keys for the template. Each gets the list's
    address with the current filters and search kept, `param` set and the page reset, and
    `active` when its value is `current`."""
    args = {k: v for k, v in request.args.items(multi=False) if k not in (param, "page")}
    built = []
    for tab in tabs:
        value = tab["value"]
        url = view.get_url(".index_view", **({} if value is None else {param: value}), **args)
        built.append({**tab, "active": value == current, "url": url})
    return built


def operation_link(text: str, operation_id: int) -> Markup:
    """`text`, then a link "Operation #N" to the operation's page in the log (flash messages)."""
    link = Markup('<a href="{}">{}</a>').format(
        url_for("audit.details_view", id=operation_id),
        _("Operation #%(id)d", id=operation_id),
    )
    # The sentence's full stop is the language's ("。" in Chinese): part of the message.
    return Markup(_("%(text)s. %(link)s", text=escape(text), link=link))


def sent_for_approval(approval_id: int):
    """Flash that a change waits for approval request `approval_id` and show that request."""
    flash(
        _(
            "Sent for approval (request #%(id)d); nothing has changed yet.",
            id=approval_id,
        ),
        "info",
    )
    return redirect(url_for("approvals.details_view", approval_id=approval_id), code=303)


def badge(text: str, kind: str) -> Markup:
    return Markup('<span class="badge badge-{}">{}</span>').format(kind, text)
