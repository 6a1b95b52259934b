"""/admin/customers/select-by-list/: select customers by a pasted or uploaded list of codes,
then the grid's confirmation page (same snapshot, token, reason and memo).

A mixin of the customer grid's view (so the confirmation page, its URLs and its "Cancel" are
the grid's own). Only Permission.CHANGE_STATUS. The page takes larger requests than the rest
of the app (a 10 MB file, 100,000 pasted codes), so its POST sets the request's limits before
anything reads the body, and checks the CSRF token itself afterwards (Flask-WTF's global check
would read the body first, under the app-wide limit). Uploaded files stay in memory and are
never stored."""

import io
from typing import TYPE_CHECKING

from flask import current_app, request
from flask_admin import expose
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from admin_app.admin.secure import deny
from admin_app.auth.session import current_actor
from admin_app.extensions import csrf
from admin_app.models import StatusAction
from admin_app.roles import Permission
from admin_app.services import code_list, status_change
from admin_app.services.errors import ServiceError, TooLarge
from admin_app.services.labels import ACTION_LABELS

# The body may hold the file and the form's other fields.
REQUEST_LIMIT = code_list.MAX_FILE_BYTES + 1024 * 1024


def _in_memory_stream(total_content_length, content_type, filename=None, content_length=None):
    # Werkzeug spools uploads over 500 KB to a temporary file; keep them in memory instead.
    return io.BytesIO()


# Typed as the customer view's status flow it is mixed into; a plain class at run time.
if TYPE_CHECKING:
    from admin_app.admin.customers import StatusChangeMixin as _StatusFlowBase
else:
    _StatusFlowBase = object


class SelectByListMixin(_StatusFlowBase):
    """Adds the select-by-list page to the customer grid's view (admin.customers)."""

    select_by_list_template = "admin/customers/select_by_list.html"

    @expose("/select-by-list/", methods=("GET", "POST"))
    def select_by_list_view(self):
        if not self.can(Permission.CHANGE_STATUS):
            return deny(_("You are not allowed to change customer status."))
        if request.method == "GET":
            return self._list_form_page()
        request.max_content_length = REQUEST_LIMIT
        request.max_form_memory_size = REQUEST_LIMIT
        request._get_file_stream = _in_memory_stream
        try:
            if current_app.config.get("WTF_CSRF_ENABLED", True):
                csrf.protect()
            form = request.form
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            return self._list_form_page(error=code_list.file_too_large_message(), status=413)
        values = {
            "codes": form.get("codes", ""),
            "column": form.get("column", "")[:100],
            "action": form.get("action", ""),
        }
        try:
            action_name = status_change.parse_action(values["action"])
            codes, source = _parse(values, upload)
            lookup = code_list.look_up(codes.codes)
        except ServiceError as exc:
            return self._list_form_page(
                values, error=exc.message, status=413 if isinstance(exc, TooLarge) else 422
            )
        if not lookup.ids:
            return self._list_form_page(
                values,
                lookup=lookup,
                status=422,
                error=_(
                    "None of the %(num)s codes names a customer. Nothing was changed.",
                    num=format(len(codes.codes), ","),
                ),
            )
        return_url = self.get_url(".index_view")
        request_id = status_change.create_request(
            action=action_name,
            actor=current_actor(),
            ids=lookup.ids,
            scope=code_list.scope_of(codes, lookup, source=source),
            return_url=return_url,
        )
        return self.confirmation_response(action_name, request_id, return_url)

    def _list_form_page(
        self,
        values: dict | None = None,
        *,
        error: str | None = None,
        lookup: code_list.Lookup | None = None,
        status: int = 200,
    ):
        values = values or {"codes": "", "column": "", "action": ""}
        actions = [(action.value, ACTION_LABELS[action.value]) for action in StatusAction]
        body = self.render(
            self.select_by_list_template,
            values=values,
            error=error,
            lookup=lookup,
            actions=actions,
            grid_url=self.get_url(".index_view"),
            max_codes=format(code_list.MAX_CODES, ","),
            max_megabytes=code_list.MAX_FILE_BYTES // (1024 * 1024),
            unknown_shown=(lookup.unknown[: code_list.MAX_UNKNOWN_SHOWN] if lookup else []),
        )
        return body, status, {"Cache-Control": "no-store"}


def _parse(values: dict, upload) -> tuple[code_list.CodeList, str]:
    if upload is not None and upload.filename:
        data = upload.stream.read(code_list.MAX_FILE_BYTES + 1)
        return code_list.parse_file(upload.filename, data, values["column"]), upload.filename
    return code_list.parse_text(values["codes"]), ""


# Flask-WTF's global check would read the body under the app-wide limit; the view checks the
# token itself (csrf.protect above), after raising the limit.
csrf.exempt(f"{__name__}.{SelectByListMixin.select_by_list_view.__name__}")
