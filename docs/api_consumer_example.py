"""Example consumer of the Customer Admin status API: follow the status-change feed.

Run it from a scheduler (cron, systemd timer) or leave it running. It stores the last cursor
it has *processed* in a file, so a restart neither misses a change nor handles one twice
(write your own handling idempotent anyway: a crash between handling and saving the cursor
replays that page).

    export CUSTOMER_ADMIN_URL=https://customer-admin.example.internal
    export CUSTOMER_ADMIN_TOKEN=cak_...          # flask --app wsgi api-tokens create shop
    python docs/api_consumer_example.py --cursor-file /var/lib/shop/customer-status.cursor

Also shown: asking about one customer and about many at once before taking an order.
Needs only `requests`.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import requests

PAGE_SIZE = 1000


class StatusApi:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs) -> dict:
        while True:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
            if response.status_code == 429:  # the token's rate limit: wait as told
                time.sleep(int(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                error = response.json()  # every error is {"code": ..., "message": ...}
                raise RuntimeError(f"{response.status_code} {error['code']}: {error['message']}")
            return response.json()

    def customer(self, code: str) -> dict | None:
        """One customer's status (None: no such code)."""
        try:
            return self._call("GET", f"/customers/{requests.utils.quote(code, safe='')}")
        except RuntimeError as exc:
            if str(exc).startswith("404 "):
                return None
            raise

    def check(self, codes: list[str]) -> dict[str, dict]:
        """Many customers (any number: sent 1,000 at a time), by code."""
        results = {}
        for start in range(0, len(codes), 1000):
            body = self._call(
                "POST", "/customers/check", json={"codes": codes[start : start + 1000]}
            )
            results.update({result["code"]: result for result in body["results"]})
        return results

    def changes(self, after: int) -> dict:
        return self._call("GET", "/status-changes", params={"after": after, "limit": PAGE_SIZE})


def read_cursor(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except FileNotFoundError:
        return 0


def save_cursor(path: Path, cursor: int) -> None:
    """Write the cursor atomically: a crash leaves the old or the new value, never half."""
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(f"{cursor}\n")
    os.replace(partial, path)


def handle(change: dict) -> None:
    """Your system's reaction: e.g. block the customer in the shop when `to` is not active."""
    blocked = change["to"] != "active"
    print(
        f"#{change['cursor']} {change['changed_at']} {change['customer_code']}: "
        f"{change['from']} -> {change['to']} ({change['action']}, reason "
        f"{change['reason_code']}, operation {change['operation_id']})"
        f"{' BLOCK' if blocked else ' UNBLOCK'}"
    )


def follow(api: StatusApi, cursor_file: Path, *, forever: bool, poll_seconds: float) -> None:
    cursor = read_cursor(cursor_file)
    while True:
        page = api.changes(cursor)
        for change in page["items"]:
            handle(change)
        if page["next"] != cursor:
            cursor = page["next"]
            save_cursor(cursor_file, cursor)
        if len(page["items"]) < PAGE_SIZE:  # caught up
            if not forever:
                return
            time.sleep(poll_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("CUSTOMER_ADMIN_URL", "http://127.0.0.1:5000")
    )
    parser.add_argument("--cursor-file", type=Path, default=Path("customer-status.cursor"))
    parser.add_argument("--forever", action="store_true", help="keep polling")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument(
        "--check",
        nargs="*",
        metavar="CODE",
        help="only ask whether these customers may trade, then exit",
    )
    args = parser.parse_args()
    token = os.environ.get("CUSTOMER_ADMIN_TOKEN")
    if not token:
        print(
            "Set CUSTOMER_ADMIN_TOKEN (flask --app wsgi api-tokens create NAME).", file=sys.stderr
        )
        return 2
    api = StatusApi(args.url, token)
    if args.check is not None:
        for code, result in api.check(args.check).items():
            verdict = (
                "unknown"
                if not result["found"]
                else "may trade"
                if result["can_trade"]
                else result["status"]
            )
            print(f"{code}: {verdict}")
        return 0
    follow(api, args.cursor_file, forever=args.forever, poll_seconds=args.poll_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
