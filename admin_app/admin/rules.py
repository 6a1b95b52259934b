"""/admin/rules/ (admins): the review rules, each with how many customers it matches now.
Created and edited through services.review_rules; disabled, never deleted."""

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectField
from wtforms.fields import SelectChoice

from admin_app.admin.secure import SecureModelView
from admin_app.auth.session import current_actor
from admin_app.models import SEGMENTS, ReviewRule
from admin_app.roles import Permission
from admin_app.services import review
from admin_app.services import review_rules as rule_service
from admin_app.services.labels import SEGMENT_LABELS, reason_label, rule_name
from admin_app.web import format_number


def _format_segment(view, context, model, name):
    if not model.segment:
        return _("All segments")
    return SEGMENT_LABELS.get(model.segment, model.segment)


def _format_matches(view, context, model, name):
    count = (context.get("rule_counts") or {}).get(model.id, 0)
    if not model.enabled:
        return Markup('<span class="text-muted rule-matches" data-rule-id="{}">{}</span>').format(
            model.id, _("%(num)s (disabled)", num=format_number(count))
        )
    return Markup('<a class="rule-matches" data-rule-id="{}" href="{}">{}</a>').format(
        model.id, url_for("review.index_view", rule=model.id), format_number(count)
    )


def _format_reason(view, context, model, name):
    return reason_label(model.reason) if model.reason is not None else ""


class ReviewRuleView(SecureModelView):
    required_permission = Permission.MANAGE_SETTINGS
    edit_permission = Permission.MANAGE_SETTINGS
    can_view_details = False
    list_template = "admin/rules/list.html"
    column_list = (
        "name",
        "name_zh",
        "name_zh_hant",
        "segment",
        "inactivity_days",
        "flag_over_credit",
        "contract_ended_days",
        "reason",
        "enabled",
        "matches",
    )
    column_labels = {
        "name": _l("Name (English)"),
        "name_zh": _l("Name (Simplified Chinese)"),
        "name_zh_hant": _l("Name (Traditional Chinese)"),
        "segment": _l("Segment"),
        "inactivity_days": _l("Inactive for (days)"),
        "flag_over_credit": _l("Over credit limit"),
        "contract_ended_days": _l("Contract ended (days ago)"),
        "reason": _l("Reason to preselect"),
        "enabled": _l("Enabled"),
        "matches": _l("Matches now"),
    }
    column_descriptions = {
        "matches": _l(
            "Active customers this rule matches now and that are not kept out of the review."
        ),
    }
    column_formatters = {
        "segment": _format_segment,
        "matches": _format_matches,
        "reason": _format_reason,
    }
    column_default_sort = ("id", False)
    column_sortable_list = ("name", "enabled")
    # The list's columns but the computed "matches".
    form_columns = tuple(name for name in column_list if name != "matches")
    form_overrides = {"segment": SelectField}
    form_args = {
        "name_zh": {"description": _l("Optional; empty: the English name is shown.")},
        "name_zh_hant": {"description": _l("Optional; empty: the English name is shown.")},
        "segment": {
            "choices": [SelectChoice("", _l("All segments"))]
            + [SelectChoice(segment, SEGMENT_LABELS[segment]) for segment in SEGMENTS]
        },
        "inactivity_days": {
            "description": _l(
                "No order for this many days (a customer without orders counts from its creation)."
            )
        },
        "contract_ended_days": {
            "description": _l("Contract ended more than this many days ago (0: ended).")
        },
        "reason": {
            "description": _l("Preselected on the confirmation page when acting from the review."),
            "get_label": reason_label,
            "blank_text": _l("None (choose on the confirmation page)"),
        },
    }

    def __init__(self, model=ReviewRule, **kwargs):
        super().__init__(model, **kwargs)

    def record_name(self, model) -> str:
        return rule_name(model)

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["rule_counts"] = review.count_by_rule_ids(
                [rule.id for rule in kwargs.get("data") or ()]
            )
        return super().render(template, **kwargs)

    def _form_fields(self, form) -> dict:
        fields = {
            name: form[name].data
            for name in rule_service.FIELDS
            if name != "reason_id" and name in form
        }
        if "reason" in form:
            chosen = form.reason.data
            raw = request.form.get("reason", "")
            # An id that matches no reason must be refused, not silently become "no reason".
            fields["reason_id"] = (
                chosen.id if chosen is not None else (raw if raw not in ("", "__None") else None)
            )
        return fields

    def create_model(self, form):
        return self.create_through_service(
            lambda: rule_service.create_rule(self._form_fields(form), actor=current_actor()), form
        )

    def update_model(self, form, model):
        return self.update_through_service(
            lambda: rule_service.update_rule(
                model.id, self._form_fields(form), actor=current_actor()
            ),
            form,
        )
