"""The statement's charts as Vega-Lite specifications, built with altair (drawn in the page by vega-embed).

Each function takes plain rows (amounts already rounded to the cent: a chart draws numbers, the statement's
tables carry the exact decimals) and returns the chart's JSON specification.
"""

from __future__ import annotations

from typing import Any

import altair as alt

WIDTH = 640
Rows = list[dict[str, Any]]


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    return chart.to_dict()


def spend_per_team_per_day(rows: Rows) -> dict[str, Any]:
    """Stacked bars: allocated USD per day, one colour per team. Rows: date (YYYY-MM-DD), team, usd."""
    return _spec(alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("date:T", title="day (UTC)", timeUnit="utcyearmonthdate"),
        y=alt.Y("sum(usd):Q", title="allocated USD"),
        color=alt.Color("team:N", title="team"),
        tooltip=["date:T", "team:N", alt.Tooltip("sum(usd):Q", format="$,.2f", title="USD")],
    ).properties(width=WIDTH, height=260))


def model_mix(rows: Rows) -> dict[str, Any]:
    """Horizontal bars: allocated USD per model, with its share. Rows: model, usd, share."""
    return _spec(alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("model:N", sort="-x", title=None),
        x=alt.X("usd:Q", title="allocated USD"),
        tooltip=["model:N", alt.Tooltip("usd:Q", format="$,.2f", title="USD"),
                 alt.Tooltip("share:Q", format=".1%", title="share")],
    ).properties(width=WIDTH - 200, height=alt.Step(24)))


BURN_DOWN_PANELS = (("month", "Month budgets: the month's spend so far, % of the amount"),
                    ("day", "Day budgets: each day's spend, % of the amount"))


def _burn_down_panel(rows: Rows, title: str) -> alt.LayerChart:
    lines = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("date:T", title="day (UTC)", timeUnit="utcyearmonthdate"),
        y=alt.Y("percent:Q", title="% of budget"),
        color=alt.Color("budget:N", title="budget", legend=alt.Legend(orient="bottom")),
        tooltip=["budget:N", "date:T", alt.Tooltip("percent:Q", format=".1f", title="%"),
                 alt.Tooltip("usd:Q", format="$,.2f", title="spend")],
    )
    budget_line = alt.Chart(alt.Data(values=[{"percent": 100}])).mark_rule(color="#b00020", strokeDash=[6, 4]).encode(
        y="percent:Q")
    # In the margin right of the plot, where no line or point is drawn: nothing covers it.
    label = alt.Chart(alt.Data(values=[{"percent": 100, "text": "budget (100 %)"}])).mark_text(
        align="left", baseline="middle", dx=8, color="#b00020").encode(y="percent:Q", text="text:N", x=alt.value(WIDTH))
    return alt.layer(lines, budget_line, label).properties(width=WIDTH, height=200, title=title)


def budget_burn_down(rows: Rows) -> dict[str, Any]:
    """Spend of each budget through the month as a percentage of its amount, against the 100 % budget line: month
    budgets (cumulative) and day budgets (each day's spend, up and down) in panels of their own, one above the
    other. Rows: budget, period (month / day), date, percent, usd."""
    panels = [_burn_down_panel(chosen, title) for period, title in BURN_DOWN_PANELS
              if (chosen := [r for r in rows if r["period"] == period])]
    return _spec(alt.vconcat(*panels).resolve_scale(color="independent") if len(panels) > 1 else panels[0])


def cache_savings(rows: Rows) -> dict[str, Any]:
    """Grouped bars per team: savings realised by cache reads, and the money missed (unread cache writes'
    premium, estimated saving of prefixes sent uncached). Rows: team, measure, usd."""
    return _spec(alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("team:N", title=None),
        xOffset="measure:N",
        y=alt.Y("usd:Q", title="USD"),
        color=alt.Color("measure:N", title=None, scale=alt.Scale(
            domain=["realised", "missed: unread cache writes", "missed: prefixes sent uncached"],
            range=["#2e7d32", "#ef6c00", "#fbc02d"])),
        tooltip=["team:N", "measure:N", alt.Tooltip("usd:Q", format="$,.2f", title="USD")],
    ).properties(width=WIDTH - 120, height=240))


def reconciliation(rows: Rows) -> dict[str, Any]:
    """Per day: the Anthropic cost report (bars) and the allocated total (line) — they coincide to the cent
    on every reported day. Rows: date, series ("cost report" / "allocated"), usd. A bar spans its day; the line's
    point of a day is at the middle of that span (bandPosition 0.5), not at its midnight, which would put it half a
    day early, over the day before's bar as much as its own."""
    day = {"field": "date", "type": "temporal", "title": "day (UTC)", "timeUnit": "utcyearmonthdate"}
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("usd:Q", title="USD"),
        tooltip=["date:T", "series:N", alt.Tooltip("usd:Q", format="$,.2f", title="USD")],
    )
    bars = base.transform_filter(alt.datum.series == "cost report").mark_bar(color="#90a4ae", opacity=0.8).encode(
        x=alt.X(**day))
    line = base.transform_filter(alt.datum.series == "allocated").mark_line(color="#1565c0", point=True).encode(
        x=alt.X(**day, bandPosition=0.5))
    return _spec(alt.layer(bars, line).properties(width=WIDTH, height=240))
