"""Cost centres: which one a row of spend, and a chargeback line, is booked to (docs/finance.md "Cost centres
from workspace tags").

The rule, written once as the SQL function ``ledger_cost_centre`` (migration 0147): the value of the
cost-centre tag (``cost_centre_tag`` in LEDGER_CONFIG) on the spend's workspace, else the team's declared
``cost_center`` (``unassigned`` for a declared team without one; the ``unassigned_cost_centre`` check flags
it), else ``''`` (nobody's: the unattributed residual, or a team no config declares). The allocation applies it
to every ``allocation_hourly`` row with the mappings below; chargeback keeps each line's cost centre and gives a
line without one (residual moved to a team by the shared-cost policy) its team's, the same fallback.
Without ``cost_centre_tag`` every team declares its cost centre and no workspace has one: the teams' mapping.
"""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from pipelines.allocation.config import UNASSIGNED, AttributionConfig
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


def team_cost_centres(config: AttributionConfig) -> dict[str, str]:
    """Declared team -> its cost centre, ``unassigned`` where it declares none (only allowed with a tag)."""
    return {name: team.cost_center or UNASSIGNED for name, team in config.teams.items()}


def workspace_cost_centres(client: Client, config: AttributionConfig) -> dict[str, str]:
    """Workspace id -> the value of its cost-centre tag (newest fetch), for the workspaces that carry it."""
    if config.cost_centre_tag is None:
        return {}
    rows = client.query(sql("allocation_workspace_cost_centres"), parameters={"tag": config.cost_centre_tag})
    return dict(rows.result_rows)


def line_cost_centre(cost_center: str, team: str, teams: dict[str, str]) -> str:
    """A chargeback line's cost centre: the one its spend was allocated with, else its team's (``teams`` from
    ``team_cost_centres``), else ''; ``ledger_cost_centre`` with the line's cost centre as the tag's."""
    return cost_center or teams.get(team, "")
