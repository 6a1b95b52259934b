"""/admin/: the dashboard."""

from dataclasses import dataclass

from flask import current_app
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from admin_app.admin.secure import SecureIndexView
from admin_app.roles import Permission
from admin_app.services import approvals, dashboard, scheduling


class DashboardView(SecureIndexView):
    @expose("/")
    def index(self):
        # The log's content (recent operations, its verification) only for roles that may
        # read the log; the rest would be links that answer 403.
        can_view_log = self.can(Permission.VIEW_AUDIT)
        return self.render(
            "admin/index.html",
            summary=dashboard.summary(recent=10 if can_view_log else 0),
            can_view_log=can_view_log,
            can_run_commands=self.can(Permission.MANAGE_SETTINGS),
            review=dashboard.review_status(current_app.config["REVIEW_INTERVAL_DAYS"]),
            status_chart=build_status_chart(dashboard.weekly_status_changes()),
            checkpoint=(dashboard.checkpoint_status() if self.can(Permission.VIEW_AUDIT) else None),
            pending_approvals_count=(
                approvals.pending_count() if self.can(Permission.APPROVE_STATUS_CHANGES) else None
            ),
            schedule=scheduling.overview(),
        )


# -- the weekly status-change chart: geometry computed here, drawn as inline SVG ----------------

CHART_SERIES = (
    ("deactivate", _l("Deactivated"), "chart-bar-deactivate"),
    ("freeze", _l("Frozen"), "chart-bar-freeze"),
    ("reactivate", _l("Reactivated"), "chart-bar-reactivate"),
    # A revert puts customers back to what they were: its own series, so a week's bars
    # add up to the customers changed in the log that week.
    ("revert", _l("Reverted"), "chart-bar-revert"),
)
CHART_WIDTH, CHART_HEIGHT = 720, 240
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 12, 18, 28


@dataclass(frozen=True)
class ChartRect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class ChartText:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class StatusChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: float
    rects: list[ChartRect]
    totals: list[ChartText]
    x_labels: list[ChartText]
    y_ticks: list[ChartText]
    legend: list[tuple[str, str]]
    rows: list[dict]  # the same numbers as a table
    empty: bool
    description: str
    weeks: int


def _nice_step(maximum: int, ticks: int = 4) -> int:
    """A 1/2/5 x 10^n step giving about `ticks` gridlines up to `maximum`."""
    raw = max(maximum / ticks, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def build_status_chart(changes: dashboard.WeeklyChanges) -> StatusChart:
    """Stacked bars per week (deactivated, frozen, reactivated, reverted), a y axis with round
    ticks, week labels, and a table of the same numbers for screen readers."""
    weeks = len(changes.week_starts)
    totals = changes.totals
    highest = max(totals, default=0)
    step = _nice_step(highest)
    top = max(step, -(-highest // step) * step) if highest else 4 * step
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    bottom = PLOT_TOP + plot_height
    slot = plot_width / weeks
    bar_width = round(slot * 0.62, 1)

    def y_of(value: float) -> float:
        return round(bottom - value / top * plot_height, 1)

    rects, total_labels, x_labels, rows = [], [], [], []
    for index, monday in enumerate(changes.week_starts):
        x = round(PLOT_LEFT + index * slot + (slot - bar_width) / 2, 1)
        stacked = 0
        row: dict[str, object] = {"week": monday.isoformat()}
        for action, label, css in CHART_SERIES:
            value = changes.counts[action][index]
            row[action] = value
            if value:
                rects.append(
                    ChartRect(
                        x,
                        y_of(stacked + value),
                        bar_width,
                        round(value / top * plot_height, 1),
                        css,
                        f"{monday.isoformat()}: {value} {label}",
                    )
                )
            stacked += value
        rows.append(row)
        if stacked:
            total_labels.append(
                ChartText(round(x + bar_width / 2, 1), y_of(stacked) - 4, f"{stacked:,}")
            )
        x_labels.append(
            ChartText(round(x + bar_width / 2, 1), bottom + 16, monday.strftime("%m-%d"))
        )
    y_ticks = [
        ChartText(PLOT_LEFT - 6, y_of(value), f"{value:,}") for value in range(0, top + 1, step)
    ]
    total = sum(totals)
    return StatusChart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=CHART_WIDTH - PLOT_RIGHT,
        plot_bottom=bottom,
        rects=rects,
        totals=total_labels,
        x_labels=x_labels,
        y_ticks=y_ticks,
        legend=[(str(label), css) for _, label, css in CHART_SERIES],
        rows=rows,
        empty=total == 0,
        weeks=weeks,
        description=ngettext(
            "%(num)d customer status change in the last %(weeks)d weeks",
            "%(num)d customer status changes in the last %(weeks)d weeks",
            total,
            weeks=weeks,
        ),
    )
