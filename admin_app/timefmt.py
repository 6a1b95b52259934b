"""The one way a time is shown: in the staff user's time zone and locale (Flask-Babel), with the
UTC time on hover. Stored times stay UTC; exports keep ISO 8601 UTC (`utc_iso`)."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates
from flask import current_app, has_app_context, has_request_context
from flask_babel import format_date, format_datetime, get_locale, get_timezone
from flask_babel import gettext as _
from markupsafe import Markup, escape

# The choices offered on the preferences page; any other valid IANA name may be typed.
COMMON_TIME_ZONES = (
    "UTC",
    "Asia/Taipei",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "America/New_York",
)
MAX_TIME_ZONE_LENGTH = 64
PAGE_TIME_FORMATS = ("full", "long", "medium", "short")


def is_time_zone(name: str) -> bool:
    """A valid IANA time zone name (as zoneinfo knows it)."""
    if not name or len(name) > MAX_TIME_ZONE_LENGTH or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_choices(current: str | None) -> tuple[str, ...]:
    """The preferences page's list: the common zones, and the user's own if it was typed in
    (so it shows as chosen, and picking another from the list always takes effect)."""
    if current is None or current in COMMON_TIME_ZONES:
        return COMMON_TIME_ZONES
    return (*COMMON_TIME_ZONES, current)


def default_time_zone() -> str:
    return (current_app.config.get("APP_TIMEZONE") if has_app_context() else None) or "UTC"


def select_time_zone() -> str:
    """Flask-Babel's timezone_selector: the signed-in staff user's zone, else APP_TIMEZONE."""
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        chosen = getattr(current_user, "time_zone", None)
        if isinstance(chosen, str) and is_time_zone(chosen):
            return chosen
    return default_time_zone()


def time_zone_name() -> str:
    """The zone the current page shows times in (for captions such as "Times in Asia/Taipei")."""
    return str(get_timezone())


# The names IANA gives UTC itself (not zones that are at UTC+0 for part of the year).
UTC_ZONE_NAMES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
)


def time_zone_label(name: str | None = None) -> str:
    """A zone as its readers call it, in the page's language: CLDR's generic name, through
    Babel ("Taiwan Time", 台北時間; "Eastern Time", 北美东部时间; "China Time", 香港時間). UTC is
    "UTC"; a zone CLDR places in no country (Etc/GMT+5) keeps its IANA name. Default: the zone
    the current page shows times in."""
    name = name or time_zone_name()
    if name in UTC_ZONE_NAMES:
        return "UTC"
    return _zone_name(name, str(get_locale() or "en"))


@lru_cache(maxsize=1024)
def _zone_name(name: str, locale: str) -> str:
    canonical = dates.get_global("zone_aliases").get(name, name)
    if dates.get_global("zone_territories").get(canonical, "ZZ") == "ZZ":  # CLDR's "unknown"
        return name
    return dates.get_timezone_name(name, locale=locale)


def shows_utc() -> bool:
    """The page shows its times in UTC itself: hovering one for UTC would show the same."""
    return time_zone_name() in UTC_ZONE_NAMES


def times_caption() -> Markup:
    """The caption over a list of times: "Times in Taiwan Time (hover a time for UTC)." ("tap"
    on a touch screen) or, in UTC, "Times in UTC."."""
    if shows_utc():
        return escape(_("Times in UTC."))
    zone = time_zone_label()
    return by_pointer(
        _("Times in %(zone)s (hover a time for UTC).", zone=zone),
        _("Times in %(zone)s (tap a time for UTC).", zone=zone),
    )


def zone_explanation() -> Markup:
    """The preferences page's sentence on the zone times are shown in (times_caption's
    longer twin)."""
    if shows_utc():
        return escape(_("Times are shown in UTC, as they are stored."))
    zone = time_zone_label()
    return by_pointer(
        _(
            "Times are shown in %(zone)s. Stored times are UTC; hover a time to see it in UTC.",
            zone=zone,
        ),
        _(
            "Times are shown in %(zone)s. Stored times are UTC; tap a time to see it in UTC.",
            zone=zone,
        ),
    )


def by_pointer(hover: str, touch: str) -> Markup:
    """Both wordings of a hint, each shown where it can be followed: `hover` with a mouse,
    `touch` on a touch screen (app.css: `(hover: none)`; static/times.js shows a time's UTC
    on a tap there). The hidden one is display: none, so a screen reader reads one."""
    return Markup(
        '<span class="on-hover-screen">{}</span><span class="on-touch-screen">{}</span>'
    ).format(hover, touch)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_text(value: datetime | date | None, format: str = "medium") -> str:
    """Plain text in the user's zone and locale; a date stays a date (no zone shift)."""
    if value is None:
        return ""
    times = _request_times(format)
    if times is not None:
        return times.text(value)
    if not isinstance(value, datetime):
        return format_date(value, format)
    return format_datetime(_as_utc(value), format)


def utc_iso(value: datetime | None) -> str:
    """ISO 8601 UTC with a Z (exports, the `datetime` attribute)."""
    if value is None:
        return ""
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(value: datetime | date | None, format: str = "medium") -> Markup:
    """`<time datetime="…Z" title="2026-12-02 17:06 UTC">2026/12/3 上午1:06</time>`."""
    if value is None:
        return Markup("")
    times = _request_times(format)
    if times is not None:
        return times.tag(value)
    if not isinstance(value, datetime):
        return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), local_text(value))
    return _time_tag(value, local_text(value, format))


def _request_times(format: str) -> "PageTimes | None":
    """page_times() for this format, or None outside a request or for a format it does not
    know (a custom pattern)."""
    if format not in PAGE_TIME_FORMATS or not has_request_context():
        return None
    return page_times(format)  # type: ignore[arg-type]


# The PageTimes made so far, one per format, locale and zone (a handful in practice; any IANA
# zone may be chosen, so they are bounded too).
_KEPT_TIMES: dict[tuple[str, str, str], "PageTimes"] = {}
_MAX_KEPT_TIMES = 64


def page_times(format: Literal["full", "long", "medium", "short"] = "medium") -> "PageTimes":
    """The PageTimes of the request's locale and zone: made once per worker, so Babel's
    patterns, day periods and the text of each day are worked out once, not on every page."""
    key = (format, str(get_locale()), str(get_timezone()))
    times = _KEPT_TIMES.get(key)
    if times is None:
        if len(_KEPT_TIMES) >= _MAX_KEPT_TIMES:
            _KEPT_TIMES.clear()
        times = _KEPT_TIMES.setdefault(key, PageTimes(format))
    return times


def local_date(value: datetime | date | None, format: str = "medium") -> Markup:
    """The local calendar day of a moment (e.g. "completed on"), with the UTC time on hover."""
    if value is None:
        return Markup("")
    times = _request_times(format)
    if times is not None:
        return times.day_tag(value)
    if not isinstance(value, datetime):
        return local_time(value, format)
    return _time_tag(value, format_date(_as_utc(value), format))


def date_formatter(format: str = "medium") -> Callable[[datetime | date | None], Markup]:
    """local_date with the page's PageTimes looked up once (for the many dates of a table)."""
    times = _request_times(format)
    return times.day_tag if times is not None else partial(local_date, format=format)


def _time_tag(value: datetime, shown: str) -> Markup:
    utc = _as_utc(value)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc_iso(utc), utc.strftime("%Y-%m-%d %H:%M UTC"), shown
    )


_MONTH_WIDTHS = {3: "abbreviated", 4: "wide", 5: "narrow"}
_MAX_KEPT_DAYS = 20_000  # the days a worker keeps the text of, per format, locale and zone
_MAX_KEPT_HOURS = 50_000  # the UTC hours it keeps the zone's offset for
_LAST_OF_HOUR = timedelta(minutes=59, seconds=59, microseconds=999_999)


def _date_field_known(key: str) -> bool:
    """A date pattern field PageTimes formats itself: y, d and M in their plain widths."""
    return bool(re.fullmatch(r"y{1,4}|d{1,2}|M{1,5}", key))


def _zone_state(local: datetime) -> tuple:
    return (local.tzinfo, local.utcoffset(), local.fold)


class PageTimes:
    """local_time() for the many times of one list page: the same markup, with the locale,
    the zone and Babel's patterns looked up once instead of for every value (Flask-Babel's
    format_datetime resolves all three per call, which was most of a time cell's cost)."""

    def __init__(self, format: Literal["full", "long", "medium", "short"] = "medium"):
        self._locale = get_locale()
        self._zone = get_timezone()
        self._datetime = str(dates.get_datetime_format(format, locale=self._locale)).replace(
            "'", ""
        )
        self._time = dates.parse_pattern(dates.get_time_format(format, locale=self._locale))
        self._date = dates.parse_pattern(dates.get_date_format(format, locale=self._locale))
        self._days: dict[date, str] = {}
        self._hours: dict[datetime, tuple | Literal[False]] = {}
        self._zone_is_utc = str(self._zone) == "UTC"
        self._periods: dict[tuple, str] = {}
        self._time_format = str(self._time.format)  # "%(h)s:%(mm)s:%(ss)s %(a)s"
        keys: list[str] | None = re.findall(r"%\((\w+)\)s", self._time_format)
        self._time_keys = keys if all(key[0] in "hHmsabB" for key in keys or ()) else None
        self._date_format = str(self._date.format)  # "%(MMM)s %(d)s, %(y)s"
        keys = re.findall(r"%\((\w+)\)s", self._date_format)
        self._date_keys = keys if all(_date_field_known(key) for key in keys) else None

    def text(self, value: datetime | date) -> str:
        """What local_text() gives for `value` (a date stays a date)."""
        if not isinstance(value, datetime):
            return self._date_text(value)
        local = self._local(value)
        return self._datetime.replace("{0}", self._time_text(local.timetz())).replace(
            "{1}", self._day_text(local.date())
        )

    def _local(self, value: datetime) -> datetime:
        """`value` in the page's zone. The zone's offset is looked up once per UTC hour:
        pytz finds it by a search of the zone's transitions (~12 µs a time for Asia/Taipei,
        against ~1 µs to add a known offset). An hour in which the offset changes (its first
        and last microsecond disagree) is converted time by time."""
        utc = _as_utc(value)
        if self._zone_is_utc:
            return utc.replace(tzinfo=self._zone)
        hour = utc.replace(minute=0, second=0, microsecond=0)
        offset = self._hours.get(hour)
        if offset is None:
            offset = self._hour_offset(hour)
        if offset is False:
            return self._converted(utc)
        shift, tzinfo, fold = offset
        return (utc + shift).replace(tzinfo=tzinfo, fold=fold)

    def _hour_offset(self, hour: datetime):
        """(shift, tzinfo, fold) that turn any time of this UTC hour into local time, or
        False when they change within it."""
        first, last = self._converted(hour), self._converted(hour + _LAST_OF_HOUR)
        same = _zone_state(first) == _zone_state(last)
        offset = (first.replace(tzinfo=None) - hour.replace(tzinfo=None), first.tzinfo, first.fold)
        if len(self._hours) >= _MAX_KEPT_HOURS:
            self._hours.clear()
        self._hours[hour] = offset if same else False
        return self._hours[hour]

    def _converted(self, utc: datetime) -> datetime:
        local = utc.astimezone(self._zone)
        if hasattr(self._zone, "normalize"):  # pytz, as Flask-Babel's zones are
            local = self._zone.normalize(local)
        return local

    def _day_text(self, day: date) -> str:
        text = self._days.get(day)
        if text is None:  # a log page's rows mostly share their day
            if len(self._days) >= _MAX_KEPT_DAYS:
                self._days.clear()
            text = self._days[day] = self._date_text(day)
        return text

    def _date_text(self, day: date) -> str:
        """The date pattern applied as Babel applies it (years, months by number or name,
        days); a pattern with other fields goes to Babel."""
        if self._date_keys is None:
            return self._date.apply(day, self._locale)
        fields = {}
        for key in self._date_keys:
            width = len(key)
            if key[0] == "y":
                fields[key] = str(day.year % 100 if width == 2 else day.year).zfill(width)
            elif key[0] == "d":
                fields[key] = str(day.day).zfill(width)
            elif width <= 2:  # M, MM
                fields[key] = str(day.month).zfill(width)
            else:
                fields[key] = self._locale.months["format"][_MONTH_WIDTHS[width]][day.month]
        return self._date_format % fields

    def _time_text(self, value) -> str:
        """The time pattern applied as Babel's DateTimePattern.apply does (~20 µs a call):
        the numbers formatted here, the day period ("AM", "上午", "清晨") from Babel once per
        hour (CLDR's periods change on whole hours; "at" noon / midnight only exactly then)."""
        if self._time_keys is None:  # a field this does not know: Babel
            return self._time.apply(value, self._locale)
        fields = {}
        for key in self._time_keys:
            char = key[0]
            if char == "h":
                number = value.hour % 12 or 12
            elif char == "H":
                number = value.hour
            elif char == "m":
                number = value.minute
            elif char == "s":
                number = value.second
            else:
                period = (key, value.hour, value.minute == 0 and value.second == 0)
                if period not in self._periods:
                    self._periods[period] = dates.DateTimeFormat(value, self._locale)[key]
                fields[key] = self._periods[period]
                continue
            fields[key] = str(number).zfill(len(key))
        return self._time_format % fields

    def tag(self, value: datetime | date | None) -> Markup:
        """What local_time() gives for `value`."""
        if value is None:
            return Markup("")
        return self._tag(value, self.text(value))

    def day_tag(self, value: datetime | date | None) -> Markup:
        """What local_date() gives for `value`: the local calendar day of a moment."""
        if not isinstance(value, datetime):
            return self.tag(value)
        return self._tag(value, self._day_text(self._local(value).date()))

    @staticmethod
    def _tag(value: datetime | date, text: str) -> Markup:
        shown = escape(text)
        if not isinstance(value, datetime):
            return Markup(f'<time datetime="{value.isoformat()}">{shown}</time>')
        iso = _as_utc(value).replace(tzinfo=None, microsecond=0).isoformat()  # no strftime
        return Markup(f'<time datetime="{iso}Z" title="{iso[:10]} {iso[11:16]} UTC">{shown}</time>')
