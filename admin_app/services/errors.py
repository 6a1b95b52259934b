"""Domain errors. Services raise them; the web and CLI edges turn them into messages."""


class ServiceError(Exception):
    """A request the service refuses; `message` is safe to show to the user."""

    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    """Bad input; `field` names the form field it concerns (e.g. "reason", "memo"), if one."""

    http_status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotAllowed(ServiceError):
    http_status = 403


class NotFound(ServiceError):
    http_status = 404


class Conflict(ServiceError):
    http_status = 409


class ConfirmationUsed(Conflict):
    """A confirmation (or revert) that already ran was sent again: `operation_id` is the
    operation it made. The edge logs it as a security event."""

    def __init__(self, message: str, *, operation_id: int):
        super().__init__(message)
        self.operation_id = operation_id


class Expired(ServiceError):
    http_status = 410


class TooLarge(ServiceError):
    http_status = 413


class Busy(ServiceError):
    """The database is busy (SQLite writer lock, PostgreSQL deadlock); retry shortly."""

    http_status = 503
    retry_after_seconds = 2


class StorageUnavailable(ServiceError):
    """The database refuses writes (disk full, read-only file or server); reads still work."""

    http_status = 503
    retry_after_seconds = 60


class ConnectionLost(ServiceError):
    """The database connection died mid-transaction; the pool replaces it on the next try."""

    http_status = 503
    retry_after_seconds = 2


class LogWentBack(ServiceError):
    """The database's operation log is behind what this server last saw (a restore): no write
    until an operator acknowledges it."""

    http_status = 503
    retry_after_seconds = 300


class CustomerNotActive(Conflict):
    """The customer is frozen or deactivated, so it can take no new order."""

    http_status = 409


class CheckpointError(ServiceError):
    """A log checkpoint cannot be made or checked: a missing or unusable key, a log whose
    chain head does not match its newest operation, a checkpoint file that cannot be read."""
