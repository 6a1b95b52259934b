"""The audit scope of a selection: the dict logged (and hashed into the audit chain) that says
which customers an operation was asked for. Built here once for the views and the services."""

from collections.abc import Sequence

# The longest filter text and the most ids a scope keeps verbatim; larger selections log the
# count only.
MAX_SCOPE_FILTER = 1000
MAX_SCOPE_IDS = 1000


def filter_scope(query_string: str) -> dict[str, object]:
    """The scope of "select all matching": the list page's query string (cut to its first
    MAX_SCOPE_FILTER characters)."""
    return {"mode": "filter", "filter": query_string[:MAX_SCOPE_FILTER]}


def ids_scope(ids: Sequence[int], **head: object) -> dict[str, object]:
    """The scope of an explicit id selection: `head` first, then the count, then the ids
    themselves when there are at most MAX_SCOPE_IDS of them."""
    scope: dict[str, object] = {**head, "count": len(ids)}
    if len(ids) <= MAX_SCOPE_IDS:
        scope["ids"] = list(ids)
    return scope
