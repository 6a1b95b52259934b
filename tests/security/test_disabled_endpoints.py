"""Flask-Admin answers a details page or an export that a view disables with a silent 302 to
the list (and a "Permission denied." flash). Every admin view answers them with 404 instead,
like any other URL that does not exist."""

from flask_admin.model import BaseModelView

from tests.conftest import make_customers

EXPORT_TYPES = ("csv", "xlsx", "json", "tsv", "yaml", "html", "nope")


def _model_views(app) -> list[BaseModelView]:
    [admin] = app.extensions["admin"]
    return [view for view in admin._views if isinstance(view, BaseModelView)]


def test_disabled_details_and_exports_are_404_in_every_view(app, client, login):
    """As an admin (who may open every view): each disabled details page and each export type
    a view does not offer is 404; the enabled ones still answer (200, or the list when the
    record does not exist)."""
    [customer_id] = make_customers(1)
    login("admin")
    no_details, no_export, answered = [], [], []
    for view in _model_views(app):
        details = client.get(f"{view.url}/details/?id={customer_id}")
        if view.can_view_details:
            answered.append((view.endpoint, "details", details.status_code))
        else:
            assert details.status_code == 404, view.endpoint
            no_details.append(view.endpoint)
        for export_type in EXPORT_TYPES:
            export = client.get(f"{view.url}/export/{export_type}/")
            if view.can_export and export_type in view.export_types:
                answered.append((view.endpoint, export_type, export.status_code))
            else:
                assert export.status_code == 404, (view.endpoint, export_type)
                no_export.append(view.endpoint)
    assert sorted(no_details) == ["reasons", "review", "rules", "scheduled", "staff"]
    assert {"reasons", "review", "rules", "scheduled", "staff"} <= set(no_export)
    assert {status for *_, status in answered} <= {200, 302}, answered
    assert ("customers", "details", 200) in answered
    assert ("customers", "csv", 200) in answered and ("audit", "xlsx", 200) in answered
