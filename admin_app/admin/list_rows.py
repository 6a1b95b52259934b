"""A list page's rows as one piece of HTML, built in Python (the grid and the operation log).

Flask-Admin renders every row through Jinja blocks and macros: per row it looks the primary key
up three times, renders the view and edit icons through macros that call url_for and gettext,
and per cell calls is_editable, get_value and a loop over the type formatters; the per-row
labels ("Select record", "View Record", ...) are translated again on every row. At 50 rows that
was most of a list page's time and about 2 KB of HTML per row (benchmarks/RESULTS.md).

Here the same table body is built with string joins: what is the same on every row (the
details and edit addresses, the return address) is computed once; each cell is escaped once;
a view may give a column a `list_cell_renderers()` function that formats it straight from the
model. The per-row labels move to one place: the table's `data-*` attributes, from which
static/list.js sets them as the icons' and checkboxes' accessible names and tooltips.
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime
from urllib.parse import quote

from flask_admin.model.template import EditRowAction, ViewRowAction
from markupsafe import Markup, escape

from admin_app.admin.secure import _format_date, _format_datetime
from admin_app.timefmt import PageTimes, page_times

CellRenderer = Callable[[object], object]


def _cell_renderers(view, names: Iterable[str]) -> dict[str, CellRenderer]:
    """One function per column: the view's own fast one, else Flask-Admin's formatting
    (column formatter, then type formatter) with times and dates through one PageTimes."""
    fast = view.list_cell_renderers()
    times = page_times()
    renderers: dict[str, CellRenderer] = {}
    for name in names:
        if name in fast:
            renderers[name] = fast[name]
        elif name in view.column_formatters:
            renderers[name] = _through_formatter(view, name)
        else:
            renderers[name] = _field_value(view, name, times)
    return renderers


def _through_formatter(view, name: str) -> CellRenderer:
    def render(model):
        return view.get_list_value(None, model, name)

    return render


def _field_value(view, name: str, times: PageTimes) -> CellRenderer:
    """The field's value as Flask-Admin would show it; text, numbers and the app's own time
    and date formats without a trip through get_list_value."""
    plain = not view._column_choices_map.get(name)
    type_formatters = view.column_type_formatters
    fast_datetime = plain and type_formatters.get(datetime) is _format_datetime
    fast_date = plain and type_formatters.get(date) is _format_date

    def render(model):
        value = view._get_field_value(model, name)
        kind = type(value)
        if plain and (kind is str or kind is int):
            return value
        if fast_datetime and kind is datetime:
            return times.tag(value)
        if fast_date and kind is date:
            return times.text(value)
        return view.get_list_value(None, model, name)

    return render


def row_links(view, row_actions, return_url: str) -> list[tuple[str, str, str]] | None:
    """(kind, address before the id, after it) for each row action, or None when one is not
    a plain view or edit link (a popup or a custom action): Jinja renders the rows then."""
    suffix = str(escape("&url=" + quote(return_url, safe="/?"))) if return_url else ""
    links = []
    for action in row_actions:
        if type(action) is ViewRowAction:
            links.append(("view", str(escape(view.get_url(".details_view"))) + "?id=", suffix))
        elif type(action) is EditRowAction:
            links.append(("edit", str(escape(view.get_url(".edit_view"))) + "?id=", suffix))
        else:
            return None
    return links


ICONS = {"view": "fa fa-eye", "edit": "fa fa-pencil"}
CHECKBOX = 'name="rowid" class="action-checkbox"'


def render_rows(
    view, data, list_columns, *, row_actions, return_url: str, with_checkbox: bool
) -> Markup | None:
    """The `<tr>` elements of a list page (None: leave it to Flask-Admin's template)."""
    if view.column_editable_list:  # inline-editable cells are Flask-Admin's widgets
        return None
    links = row_links(view, row_actions, return_url) if view.column_display_actions else []
    if links is None:
        return None
    names = [name for name, _label in list_columns]
    renderers = _cell_renderers(view, names)
    cells = [(f'<td class="col-{name}">', renderers[name]) for name in names]
    pk = view.get_pk_value
    out: list[str] = []
    append = out.append
    for row in data:
        key = str(escape(pk(row)))
        append("<tr>")
        if with_checkbox:
            append(f'<td><input type="checkbox" {CHECKBOX} value="{key}"></td>')
        if view.column_display_actions:
            append('<td class="list-buttons-column">')
            append(
                " ".join(
                    f'<a class="icon row-{kind}" href="{prefix}{key}{suffix}">'
                    f'<i class="{ICONS[kind]}"></i></a>'
                    for kind, prefix, suffix in links
                )
            )
            append("</td>")
        for opening, render in cells:
            append(opening)
            append(escape(render(row)))
            append("</td>")
        append("</tr>\n")
    return Markup("".join(out))
