"""/admin/: the dashboard."""

from flask_admin import expose

from admin_app.admin.secure import SecureIndexView
from admin_app.services import dashboard


class DashboardView(SecureIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/index.html", summary=dashboard.summary())
