"""Every model, re-exported so Alembic and callers see them all."""

from admin_app.models.api_token import ApiToken
from admin_app.models.audit import AuditChainHead
from admin_app.models.audit import AuditCheckpoint
from admin_app.models.audit import AuditEntry
from admin_app.models.audit import AuditOperation
from admin_app.models.audit import AuditVerification
from admin_app.models.customer import SEGMENTS
from admin_app.models.customer import Customer
from admin_app.models.customer import CustomerStatus
from admin_app.models.customer import CustomerStatusCount
from admin_app.models.customer import StatusAction
from admin_app.models.order import Order
from admin_app.models.review import Reason
from admin_app.models.review import ReviewRule
from admin_app.models.status_request import StatusChangeRequest
from admin_app.models.status_request import StatusChangeRequestItem
from admin_app.models.user import StaffUser

__all__ = [
    "ApiToken",
    "SEGMENTS",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditOperation",
    "AuditVerification",
    "Customer",
    "CustomerStatus",
    "CustomerStatusCount",
    "Order",
    "Reason",
    "ReviewRule",
    "StaffUser",
    "StatusChangeRequest",
    "StatusChangeRequestItem",
    "StatusAction",
]
