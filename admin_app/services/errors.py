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


class Expired(ServiceError):
    http_status = 410


class TooLarge(ServiceError):
    http_status = 413


class Busy(ServiceError):
    """The database is busy (SQLite writer lock, PostgreSQL deadlock); retry shortly."""

    http_status = 503


class CustomerNotActive(Conflict):
    """The customer is frozen or deactivated, so it can take no new order."""

    http_status = 409
