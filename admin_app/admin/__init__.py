"""init_admin(app): a fresh Admin per app, with every view."""

from pathlib import Path

import flask_admin.babel
import flask_admin.helpers
from flask import Flask, abort
from flask_admin import Admin, BaseView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from admin_app.admin import preview_table
from admin_app.auth.redirects import is_local_path
from admin_app.services.actions import action_label
from admin_app.services.labels import customer_status_labels, label_list, role_label, status_label
from admin_app.services.operation_text import log_time
from admin_app.web import OUTSIDE_MENU, allow_inline_handlers, csp_nonce

# The inline handlers Flask-Admin's Bootstrap 4 templates render: the "With selected" items
# (admin/actions.html) and the "Add Filter" items (admin/model/layout.html).
ACTION_HANDLER = "return modelActions.execute('{name}');"
FILTER_HANDLER = "return false;"
# admin.po / admin.mo here override Flask-Admin's bundled catalogs (its zh_Hans_CN says
# "20 项目", "选中的"; see the header of those files).
ADMIN_OVERRIDES = str(Path(__file__).resolve().parent.parent / "translations")


def use_admin_overrides() -> None:
    """Load our admin-domain catalogs AFTER Flask-Admin's: flask_babel merges the directories in
    order and a later catalog wins. (Admin(translations_path=...) is searched first, so
    Flask-Admin's own translations would win over it.) Flask-Admin's gettext is one module-level
    Domain, so this is process-wide and idempotent. (Our model forms' WTForms messages: see
    admin_app.i18n.TranslatedForm.)"""
    directories = flask_admin.babel.domain._translation_directories
    if ADMIN_OVERRIDES not in directories:
        directories.append(ADMIN_OVERRIDES)
        flask_admin.babel.domain.cache.clear()


class OutsideMenuView(BaseView):
    """The admin layout's view for pages that are no menu item (web.render_outside_menu). It
    is not added to the admin: no menu item is its, so none is highlighted."""

    @expose("/")
    def index(self):  # Flask-Admin wants a default view; this one is never routed
        abort(404)


def init_admin(app: Flask) -> Admin:
    from admin_app.admin.api_tokens import ApiTokenView
    from admin_app.admin.approvals import ApprovalView, pending_badge
    from admin_app.admin.audit import AuditOperationView
    from admin_app.admin.customers import CustomerView
    from admin_app.admin.customers.status_flow import counted_skip
    from admin_app.admin.dashboard import DashboardView
    from admin_app.admin.orders import OrderView
    from admin_app.admin.reasons import ReasonView
    from admin_app.admin.review import ReviewView
    from admin_app.admin.rules import ReviewRuleView
    from admin_app.admin.scheduled import ScheduledChangeView
    from admin_app.admin.staff import StaffView
    from admin_app.models import AuditOperation, Order, Reason, ReviewRule

    # Flask-Admin 2.2.1's is_safe_url lets "http:/evil.example" through (SECURITY.md #6); its
    # get_redirect_target looks the function up at call time, so this covers every view.
    flask_admin.helpers.is_safe_url = is_local_path
    use_admin_overrides()

    admin = Admin(
        app,
        name=_l("Customer Admin"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="admin/app_base.html"),
        index_view=DashboardView(name=_l("Dashboard"), url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    admin.add_view(CustomerView(name=_l("Customers"), endpoint="customers"))
    admin.add_view(ReviewView(name=_l("Review"), endpoint="review"))
    admin.add_view(OrderView(Order, name=_l("Orders"), endpoint="orders"))
    admin.add_view(ApprovalView(name=_l("Approvals"), endpoint="approvals"))
    admin.add_view(ScheduledChangeView(name=_l("Scheduled"), endpoint="scheduled"))
    admin.add_view(AuditOperationView(AuditOperation, name=_l("Operation log"), endpoint="audit"))
    admin.add_view(StaffView(name=_l("Staff"), endpoint="staff", category=_l("Settings")))
    admin.add_view(
        ReasonView(Reason, name=_l("Reasons"), endpoint="reasons", category=_l("Settings"))
    )
    admin.add_view(
        ReviewRuleView(
            ReviewRule, name=_l("Review rules"), endpoint="rules", category=_l("Settings")
        )
    )
    admin.add_view(
        ApiTokenView(
            name=_l("API tokens"),
            endpoint="api_tokens",
            url="/admin/api-tokens",
            category=_l("Settings"),
        )
    )
    outside_menu = OutsideMenuView(endpoint="outside_menu")
    outside_menu.admin = admin
    app.extensions[OUTSIDE_MENU] = outside_menu
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["customer_status_labels"] = customer_status_labels
    app.jinja_env.globals["preview_customer_table"] = preview_table.customer_table
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["counted_skip"] = counted_skip
    app.jinja_env.globals["action_label"] = action_label
    app.jinja_env.globals["label_list"] = label_list
    app.jinja_env.globals["pending_approvals"] = pending_badge
    app.jinja_env.filters["log_time"] = log_time
    allow_inline_handlers(
        app,
        [
            FILTER_HANDLER,
            *(
                ACTION_HANDLER.format(name=name)
                for view in admin._views
                for name, _text in getattr(view, "_actions", ())
            ),
        ],
    )
    return admin
