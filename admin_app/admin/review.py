"""/admin/review/: the review queue. Active customers that enabled review rules propose for
deactivation, with the rules each matched; the grid's bulk flow with the reason preselected,
"keep until" and "mark review complete". Everyone who sees customers sees the queue; only
Permission.CHANGE_STATUS gets the actions."""

from datetime import timedelta

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from admin_app.admin.customers import _format_money_pair, _format_segment
from admin_app.admin.forms import CompleteReviewForm, KeepInReviewForm
from admin_app.admin.secure import SecureModelView, deny, list_tabs, operation_link
from admin_app.auth.redirects import local_or
from admin_app.auth.session import current_actor
from admin_app.models import SEGMENTS, Customer
from admin_app.models.types import utcnow
from admin_app.roles import Permission
from admin_app.services import review, status_change
from admin_app.services.errors import InvalidInput
from admin_app.services.input_rules import parse_id
from admin_app.services.labels import ACTION_LABELS, SEGMENT_LABELS, enumeration, rule_name
from admin_app.timefmt import local_date

DEFAULT_KEEP_DAYS = 90
REVIEW_ACTIONS = ("deactivate", "freeze")


def _format_date_only(view, context, model, name):
    """The day of a moment in the viewer's zone and language, as the other dates of the page."""
    return local_date(getattr(model, name))


def _format_matched(view, context, model, name):
    candidate = (context.get("review_matches") or {}).get(model.id)
    if candidate is None:
        return ""
    return Markup(" ").join(
        Markup('<span class="badge badge-warning review-rule" data-rule-id="{}">{}</span>').format(
            rule.id, rule_name(rule)
        )
        for rule in candidate.rules
    )


class ReviewView(SecureModelView):
    required_permission = Permission.VIEW_CUSTOMERS
    list_template = "admin/review/list.html"
    can_view_details = False
    column_list = (
        "code",
        "name",
        "segment",
        "balance",
        "last_order_at",
        "contract_end",
        "matched_rules",
    )
    column_labels = {
        "code": _l("Code"),
        "name": _l("Name"),
        "segment": _l("Segment"),
        "balance": _l("Balance / credit limit"),
        "last_order_at": _l("Last order"),
        "contract_end": _l("Contract end"),
        "matched_rules": _l("Matched rules"),
        "credit_limit": _l("Credit limit"),
    }
    column_formatters = {
        "matched_rules": _format_matched,
        "balance": _format_money_pair,
        "segment": _format_segment,
        "last_order_at": _format_date_only,
    }
    column_display_actions = False
    can_export = True
    column_export_list = (
        "code",
        "name",
        "segment",
        "balance",
        "credit_limit",
        "last_order_at",
        "contract_end",
        "matched_rules",
    )
    column_formatters_export = {
        "segment": lambda view, context, model, name: str(
            SEGMENT_LABELS.get(model.segment, model.segment)
        ),
        "matched_rules": lambda view, context, model, name: view.export_matched_rules(model),
    }
    column_sortable_list = ("code", "name", "segment", "balance", "last_order_at", "contract_end")
    column_default_sort = ("code", False)
    column_searchable_list = ("code", "name")
    column_filters = (
        FilterEqual(
            Customer.segment, _l("Segment"), options=[(s, SEGMENT_LABELS[s]) for s in SEGMENTS]
        ),
    )
    named_filter_urls = True

    def __init__(self, **kwargs):
        super().__init__(Customer, **kwargs)

    def search_placeholder(self) -> str:
        return _("Code or name contains…")  # Flask-Admin's own joins the labels with ", "

    # -- the candidates: the rules are read once per request ---------------------------------

    def _rules(self) -> list[review.Rule]:
        if "review_rules" not in g:
            g.review_rules = review.load_rules()
            g.review_now = utcnow()
        return g.review_rules

    def _now(self):
        self._rules()
        return g.review_now

    def _rule_filter(self) -> review.Rule | None:
        value = request.args.get("rule", "")
        return next((rule for rule in self._rules() if str(rule.id) == value), None)

    def _candidates(self, query):
        rule = self._rule_filter()
        return query.filter(
            review.candidate_condition(
                self._rules(), now=self._now(), rule_id=rule.id if rule else None
            )
        )

    def get_query(self):
        return self._candidates(super().get_query())

    def get_count_query(self):
        # Unsearched and unfiltered, the total is the tab's count (get_list): no second scan.
        if not self._narrowed():
            return None
        return self._candidates(super().get_count_query())

    def _narrowed(self) -> bool:
        view_args = self._get_list_extra_args()
        return bool(view_args.search or view_args.filters)

    def _queue_counts(self) -> review.QueueCounts:
        """The queue's counts (all candidates, per rule), once per request."""
        if "review_counts" not in g:
            g.review_counts = review.current_counts(self._rules(), now=self._now())
        return g.review_counts

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if count is None:
            counts = self._queue_counts()
            rule = self._rule_filter()
            count = counts.per_rule.get(rule.id, 0) if rule else counts.total
        return count, rows

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        view_args.page = max(view_args.page or 0, 0)
        return view_args

    # -- export: the queue as it is filtered, one query for the matched rules of all rows ------

    def get_export_columns(self):
        return [
            (name, _l("Balance") if name == "balance" else label)
            for name, label in super().get_export_columns()
        ]

    def _export_data(self):
        count, data = super()._export_data()
        data = list(data)
        g.review_export_matches = review.matched_rules(
            [row.id for row in data], self._rules(), now=self._now()
        )
        return count, data

    def export_matched_rules(self, model) -> str:
        candidate = g.get("review_export_matches", {}).get(model.id)
        return enumeration(rule_name(rule) for rule in candidate.rules) if candidate else ""

    # -- actions: rendered here, posted to the customer grid's bulk flow ---------------------

    def get_actions_list(self):
        if not self.can(Permission.CHANGE_STATUS):
            return [], {}
        return [(name, str(ACTION_LABELS[name])) for name in REVIEW_ACTIONS], {}

    def _preset_reason(self) -> str:
        rule = self._rule_filter()
        if rule is not None:
            return rule.reason_code or ""
        codes = {rule.reason_code for rule in self._rules() if rule.reason_code}
        return codes.pop() if len(codes) == 1 else ""

    def _rule_tabs(self) -> list[dict]:
        counts = self._queue_counts()
        current = self._rule_filter()
        tabs = [{"value": None, "label": _("All candidates"), "count": counts.total}]
        tabs += [
            {
                "value": rule.id,
                "label": rule_name(rule),
                "count": counts.per_rule.get(rule.id, 0),
                "rule_id": rule.id,
            }
            for rule in self._rules()
        ]
        return list_tabs(self, "rule", None if current is None else current.id, tabs)

    def render(self, template, **kwargs):
        if template == self.list_template:
            rows = kwargs.get("data") or []
            matches = review.matched_rules([row.id for row in rows], self._rules(), now=self._now())
            today = self._now().date()
            kwargs.update(
                review_matches=matches,
                rule_tabs=self._rule_tabs(),
                has_rules=bool(self._rules()),
                can_act=self.can(Permission.CHANGE_STATUS),
                customers_action_url=url_for("customers.action_view"),
                preset_reason=self._preset_reason(),
                row_reasons={str(cid): c.reason_code for cid, c in matches.items()},
                keep_form=g.get("review_keep_form")
                or KeepInReviewForm(
                    formdata=None, until=(today + timedelta(days=DEFAULT_KEEP_DAYS)).isoformat()
                ),
                keep_checked=g.get("review_keep_checked", []),
                keep_min=(today + timedelta(days=1)).isoformat(),
                keep_max=(today + timedelta(days=review.MAX_KEEP_DAYS)).isoformat(),
                complete_form=g.get("review_complete_form") or CompleteReviewForm(formdata=None),
                last_review=review.last_completed_review(),
            )
        return super().render(template, **kwargs)

    # -- keep until / mark review complete ------------------------------------------------------

    def _back(self, url: str | None):
        return redirect(local_or(url, self.get_url(".index_view")), code=303)

    @expose("/keep/", methods=("POST",))
    def keep_view(self):
        if not self.can(Permission.CHANGE_STATUS):
            return deny(_("You are not allowed to keep customers out of the review."))
        form = KeepInReviewForm()
        if not form.validate():
            return self._form_refused(keep_form=form)
        try:
            until = review.parse_keep_date(form.until.data)
        except InvalidInput as exc:
            form.until.errors.append(exc.message)
            return self._form_refused(keep_form=form)
        try:
            ids = status_change.parse_rowids(
                request.form.getlist("rowid"), limit=current_app.config["MAX_CHECKED_IDS"]
            )
            result = review.keep_in_review(
                ids, until, actor=current_actor(), memo=form.memo.data or ""
            )
        except InvalidInput as exc:
            form.form_errors.append(exc.message)
            return self._form_refused(keep_form=form)
        if result.operation_id is None:
            flash(
                _(
                    "Nothing changed: the selected customers are not active or already kept "
                    "until %(date)s.",
                    date=until.isoformat(),
                ),
                "info",
            )
        else:
            text = ngettext(
                "Kept %(num)d customer out of the review until %(date)s",
                "Kept %(num)d customers out of the review until %(date)s",
                result.changed,
                date=until.isoformat(),
            )
            flash(operation_link(text, result.operation_id), "success")
        return self._back(form.url.data)

    @expose("/complete/", methods=("POST",))
    def complete_view(self):
        if not self.can(Permission.CHANGE_STATUS):
            return deny(_("You are not allowed to record a review."))
        form = CompleteReviewForm()
        if not form.validate():
            return self._form_refused(complete_form=form)
        try:
            result = review.complete_review(actor=current_actor(), memo=form.memo.data or "")
        except InvalidInput as exc:
            form.memo.errors.append(exc.message)
            return self._form_refused(complete_form=form)
        text = ngettext(
            "Review recorded with %(num)d candidate waiting",
            "Review recorded with %(num)d candidates waiting",
            result.candidates,
        )
        flash(operation_link(text, result.operation_id), "success")
        return self._back(form.url.data)

    def _form_refused(self, **forms):
        """The queue again (422) with the refused form, its errors next to its fields, what
        was typed and the rows that were checked (the form posts to the queue's own query)."""
        for name, form in forms.items():
            setattr(g, f"review_{name}", form)
        g.review_keep_checked = [
            value for value in request.form.getlist("rowid") if parse_id(value) is not None
        ][:1000]
        response = self.index_view()
        if isinstance(response, str):
            return response, 422
        return response
