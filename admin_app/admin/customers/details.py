"""The customer details page of /admin/customers/: the customer's history (for those who may
see the operation log), recent orders and pending scheduled changes."""

from flask import url_for

from admin_app.admin.customers.grid import GridMixin
from admin_app.models import StatusAction
from admin_app.roles import Permission
from admin_app.services import orders as order_service
from admin_app.services import scheduling
from admin_app.services.labels import ACTION_LABELS, status_label


class CustomerDetailsMixin(GridMixin):
    """What the details page shows beside the customer's own fields."""

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.details_template and model is not None:
            # Orders stay visible whatever the customer's status.
            kwargs["customer_orders"] = order_service.recent_orders(model.id)
            kwargs["customer_orders_url"] = url_for(
                "orders.index_view", flt0_customer_code_equals=model.code
            )
            kwargs["scheduled_changes"] = _scheduled_rows(scheduling.pending_for_customer(model.id))
            kwargs["can_cancel_scheduled"] = self.can(Permission.CHANGE_STATUS)
        # The customer's history is part of the operation log: only for those who may see it.
        from admin_app.services import history, operation_text

        if template == self.details_template and self.can(Permission.VIEW_AUDIT):
            kwargs["history"] = history.customer_history(kwargs["model"].id)
            kwargs["history_rows"] = operation_text.describe_history(kwargs["history"].items)
        return super().render(template, **kwargs)


def _scheduled_rows(changes) -> list[dict]:
    """A customer's pending changes with their labels (action → status, reason)."""
    from admin_app.services import operation_text

    reasons = operation_text.reason_labels()
    return [
        {
            "id": change.id,
            "due_at": change.due_at,
            "action": ACTION_LABELS[change.action],
            "status": status_label(StatusAction(change.action).target.value),
            "reason": reasons.get(change.reason_code, change.reason_code),
            "memo": change.memo,
        }
        for change in changes
    ]
