"""gunicorn settings that profile requests with pyinstrument (benchmarks/profile_pages.py).

    GUNICORN_CMD_ARGS="-c benchmarks/gunicorn_profile.py" PROFILE_DIR=/tmp/prof gunicorn wsgi:app

A request with the header `X-Profile-Label: NAME` is sampled from gunicorn's pre_request hook
to its post_request hook (routing, the app, writing the body); the samples of every request
with the same label add up in one profiler. When the worker exits, each profiler is written to
PROFILE_DIR/NAME.pyisession (pyinstrument's session file) for profile_pages.py to summarise.
Requests without the header are not profiled. Needs the `bench` extra (pyinstrument).
"""

import os
from pathlib import Path

from pyinstrument import Profiler

_profilers: dict[str, Profiler] = {}
_counts: dict[str, int] = {}


def _label(req) -> str | None:
    for name, value in req.headers:
        if name.upper() == "X-PROFILE-LABEL":
            return "".join(ch for ch in value if ch.isalnum() or ch in "-_") or None
    return None


def pre_request(worker, req):
    label = _label(req)
    if label is None:
        return
    profiler = _profilers.setdefault(label, Profiler(interval=0.0005, async_mode="disabled"))
    _counts[label] = _counts.get(label, 0) + 1
    profiler.start()


def post_request(worker, req, environ, resp):
    label = _label(req)
    if label is not None and label in _profilers and _profilers[label].is_running:
        _profilers[label].stop()


def worker_exit(server, worker):
    out = Path(os.environ.get("PROFILE_DIR", "."))
    out.mkdir(parents=True, exist_ok=True)
    for label, profiler in _profilers.items():
        if profiler.last_session is None:
            continue
        profiler.last_session.save(str(out / f"{label}.{os.getpid()}.pyisession"))
        (out / f"{label}.{os.getpid()}.count").write_text(str(_counts[label]))
