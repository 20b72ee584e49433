"""Claude Code usage against the simulator over real HTTP, into a real embedded ClickHouse.

One Monday, one Claude Code workspace: Ana (search) makes a Haiku 4.5 call of 1,001,234 input tokens ($1.001234,
estimated as 100 cents), the CI key (platform) one of 600,000 input + 10,000 output tokens ($0.60 + $0.05 = 65
cents); Dana (data) is a subscription seat estimated at 212 cents. The cost report bills the workspace $1.651234.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from admin_api_traffic import HAIKU, Traffic
from crash import killed_repeatedly
from dagster import DagsterInstance, materialize

from demo.organisation import ClaudeCodeActor
from demo.simulator.claude_code import CLAUDE_CODE_PATH
from demo.simulator.server import AdminApiSimulator, SimulatorState, running_simulator
from pipelines.admin_api.assets import admin_cost_daily
from pipelines.admin_api.client import AdminApiClient
from pipelines.allocation.assets import claude_code_workspaces
from pipelines.allocation.config import AttributionConfig
from pipelines.budgets.model import Budget, BudgetsConfig
from pipelines.budgets.status import read_budget_statuses
from pipelines.claude_code.assets import claude_code_team_daily, claude_code_usage_daily
from pipelines.claude_code.collect import ClaudeCodeRecordError, parse_day
from pipelines.claude_code.config import ClaudeCodeConfig
from pipelines.claude_code.pseudonyms import Pseudonymiser
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.storage.clickhouse import ClickHouseResource

DAY = date(2026, 10, 5)  # a Monday
DAY_KEY = DAY.isoformat()
NOON = datetime(2026, 10, 5, 12, tzinfo=UTC)
WORKSPACE = "wrkspc_cc"
ANA, DANA = "ana.lopez@example.com", "dana.smith@example.com"
KEY = "test-pseudonym-key"
FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
CONFIG = f"""
teams:
  search: {{cost_center: CC-100}}
  platform: {{cost_center: CC-500}}
  data: {{cost_center: CC-500}}
people:
  store_emails: true
  teams:
    - {{match: "*@example.com", team: data}}
    - {{match: {ANA}, team: search}}
claude_code:
  workspace_id: {WORKSPACE}
  api_keys: {{claude-code-ci: platform}}
  page_size: 1
"""
ACTORS = (ClaudeCodeActor("user_actor", ANA, "api", "vscode"),
          ClaudeCodeActor("api_actor", "claude-code-ci", "api", None))
SEATS = (ClaudeCodeActor("user_actor", DANA, "subscription", "cursor",
                         ("claude-sonnet-4-6", 1000, 2000, 0, 0, 212)),)


def pseudonym(email: str) -> str:
    return "person_" + hmac.new(KEY.encode(), email.encode(), hashlib.sha256).hexdigest()[:20]


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    traffic = Traffic()
    traffic.add(NOON, key="apikey_cc", workspace=WORKSPACE, model=HAIKU, input=1_001_234, user="u_0")  # Ana
    traffic.add(NOON + timedelta(minutes=5), key="apikey_cc", workspace=WORKSPACE, model=HAIKU, input=600_000,
                output=10_000, user="u_1")  # CI
    state = SimulatorState(calls_in_hour=traffic, retry_after_s=0, claude_code_workspace=WORKSPACE,
                           claude_code_api_actors=ACTORS, claude_code_subscription_actors=SEATS)
    with running_simulator(state) as sim:
        monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", sim.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", sim.base_url)
        yield sim


@pytest.fixture
def config(tmp_path: Path) -> LedgerConfig:
    path = tmp_path / "ledger.yaml"
    path.write_text(CONFIG)
    return LedgerConfig(path=str(path))


def run(assets: list, ch: ClickHouseResource, config: LedgerConfig, instance: DagsterInstance | None = None):
    resources = {"clickhouse": ch, "admin_api": AdminApiClient.from_env(**FAST), "ledger_config": config,
                 "pseudonyms": Pseudonymiser(key=KEY)}
    return materialize(assets, resources=resources, partition_key=DAY_KEY,
                       instance=instance or DagsterInstance.ephemeral())


def test_a_day_is_stored_per_actor_and_model_with_pseudonyms_and_exact_dollars(simulator, ch, config):
    run([claude_code_usage_daily], ch, config)

    assert ch.query_rows("SELECT actor_type, actor_id, team, customer_type, subscription_type, terminal_type, model, "
                         "input_tokens, output_tokens, estimated_cost_usd FROM claude_code_usage_daily FINAL "
                         "ORDER BY actor_type, team") == [
        ("api_actor", "claude-code-ci", "platform", "api", "", "", HAIKU, 600_000, 10_000, Decimal("0.65")),
        ("user_actor", pseudonym(DANA), "data", "subscription", "team", "cursor", "claude-sonnet-4-6", 1000, 2000,
         Decimal("2.12")),
        ("user_actor", pseudonym(ANA), "search", "api", "", "vscode", HAIKU, 1_001_234, 0, Decimal("1.00")),
    ]


def test_every_page_of_a_day_is_read(simulator, ch, config):
    result = run([claude_code_usage_daily], ch, config)

    pages = [r.query.get("page", [None])[0] for r in simulator.state.requests_to(CLAUDE_CODE_PATH)]
    assert len(pages) == 3 and pages[0] is None and len(set(pages)) == 3  # page_size 1, three records
    assert result.asset_materializations_for_node("claude_code_usage_daily")[0].metadata["pages"].value == 3


def test_a_429_with_retry_after_a_500_and_a_torn_body_are_retried(simulator, ch, config):
    simulator.inject("429", "500", "malformed")

    result = run([claude_code_usage_daily], ch, config)

    metadata = result.asset_materializations_for_node("claude_code_usage_daily")[0].metadata
    assert metadata["retries"].value == 3
    assert metadata["records"].value == 3


def test_productivity_metrics_are_stored_per_actor(simulator, ch, config):
    run([claude_code_usage_daily], ch, config)

    # The simulator's metrics for 1 call: 1 session, 37 lines added, 11 removed, 2 edits accepted.
    assert ch.query_rows("SELECT sessions, lines_added, lines_removed, commits, edit_accepted FROM "
                         "claude_code_activity_daily FINAL WHERE actor_id = {a:String}", {"a": pseudonym(ANA)}) == [
        (1, 37, 11, 0, 2)]


def test_emails_appear_in_no_log_line_and_no_metadata(simulator, ch, config):
    instance = DagsterInstance.ephemeral()
    simulator.inject("429")  # a retry logs a warning too

    result = run([claude_code_usage_daily], ch, config, instance)

    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    metadata = [json.dumps({k: str(v.value) for k, v in m.metadata.items()})
                for m in result.asset_materializations_for_node("claude_code_usage_daily")]
    assert len(logged) > 10 and metadata
    assert not [text for text in logged + metadata if ANA in text or DANA in text or "example.com" in text]


def test_emails_are_stored_only_in_the_finance_table_and_only_when_allowed(simulator, ch, config, tmp_path):
    run([claude_code_usage_daily], ch, config)
    assert ch.query_rows("SELECT email, team FROM finance_claude_code_by_person ORDER BY email") == [
        (ANA, "search"), (DANA, "data")]

    off = tmp_path / "off.yaml"
    off.write_text(CONFIG.replace("store_emails: true", "store_emails: false"))
    run([claude_code_usage_daily], ch, LedgerConfig(path=str(off)))

    assert ch.query_rows("SELECT count() FROM finance_claude_code_people") == [(0,)]
    assert ch.query_rows("SELECT pseudonym, email FROM finance_claude_code_by_person ORDER BY pseudonym") == sorted(
        [(pseudonym(ANA), None), (pseudonym(DANA), None)])


def test_the_workspace_invoice_is_split_by_estimated_share_and_subscriptions_are_not_charged(simulator, ch, config):
    run([admin_cost_daily, claude_code_usage_daily, claude_code_team_daily], ch, config)

    # $1.651234 over search 100 : platform 65 cents, in 1e-12 USD: 1.000747878787|878 and 0.650486121212|121;
    # the one unit left goes to the larger remainder (search).
    assert ch.query_rows("SELECT team, customer_type, estimated_cost_usd, charged_usd FROM claude_code_team_daily "
                         "FINAL ORDER BY team") == [
        ("data", "subscription", Decimal("2.12"), Decimal(0)),
        ("platform", "api", Decimal("0.65"), Decimal("0.650486121212")),
        ("search", "api", Decimal("1.00"), Decimal("1.000747878788")),
    ]


def test_the_estimate_is_reconciled_with_the_cost_report(simulator, ch, config):
    result = run([admin_cost_daily, claude_code_usage_daily, claude_code_team_daily], ch, config)

    # 1.65 - 1.651234 = -0.001234 USD, / 1.651234 = -0.0747 %.
    assert ch.query_rows("SELECT estimated_cost_usd, cost_report_usd, difference_usd, difference_pct FROM "
                         "claude_code_reconciliation_daily FINAL") == [
        (Decimal("1.65"), Decimal("1.651234"), Decimal("-0.001234"), Decimal("-0.0747"))]
    assert [c.passed for c in result.get_asset_check_evaluations()] == [True]


def test_a_team_total_counts_the_claude_code_workspace_once(simulator, ch, config):
    run([admin_cost_daily, claude_code_usage_daily, claude_code_team_daily], ch, config)
    with ch.connect() as client:  # the allocation charged the workspace to its owner, and search $3 elsewhere
        client.insert("allocation_hourly", [
            [date(2026, 10, 1), NOON, WORKSPACE, "platform", Decimal("1.651234")],
            [date(2026, 10, 1), NOON, "wrkspc_search", "search", Decimal("3")]],
            column_names=["month", "hour", "workspace_id", "team", "allocated_cost_usd"])

    assert ch.query_rows("SELECT team, total_usd, claude_code_subscription_estimated_usd FROM "
                         "finance_claude_code_by_team ORDER BY team") == [
        ("data", Decimal(0), Decimal("2.12")),
        ("platform", Decimal("0.650486121212"), Decimal(0)),
        ("search", Decimal("4.000747878788"), Decimal(0)),  # 3 + its Claude Code share; the sum is still 4.651234
    ]


def test_a_null_estimated_amount_names_day_record_and_field_but_not_the_email():
    record = {"date": "2026-10-05T00:00:00Z", "actor": {"type": "user_actor", "email_address": ANA},
              "customer_type": "api", "model_breakdown": [{"model": HAIKU, "tokens": {"input": 1},
                                                           "estimated_cost": {"currency": "USD", "amount": None}}]}

    with pytest.raises(ClaudeCodeRecordError) as failure:
        parse_day(DAY, [record], ClaudeCodeConfig(), Pseudonymiser(key=KEY))

    assert str(failure.value) == ("usage_report/claude_code day 2026-10-05 record 0 model_breakdown.0: "
                                  "estimated_cost.amount is missing or null")


def test_a_bad_people_item_names_item_and_field_and_leaves_allocation_working(tmp_path):
    path = tmp_path / "ledger.yaml"
    path.write_text(CONFIG.replace("team: search}", "team: serch}"))
    config = LedgerConfig(path=str(path))

    with pytest.raises(LedgerConfigError, match=r"people\.teams\.1\.team: team 'serch' is not declared under teams"):
        config.section(ClaudeCodeConfig)
    assert set(config.section(AttributionConfig).teams) == {"search", "platform", "data"}


def test_the_simulator_answers_a_bad_day_with_the_api_error_body(simulator):
    answer = httpx.get(simulator.base_url + CLAUDE_CODE_PATH, params={"starting_at": "2026-10-05T00:00:00Z"},
                       headers={"x-api-key": simulator.api_key, "anthropic-version": "2023-06-01"})

    assert answer.status_code == 400
    assert answer.json() == {"type": "error", "error": {
        "type": "invalid_request_error",
        "message": "starting_at: must be a UTC date YYYY-MM-DD, got '2026-10-05T00:00:00Z'"}}


def day_spend(ch: ClickHouseResource, budgets: list[Budget]) -> dict[str, Decimal]:
    with ch.connect() as client:
        statuses = read_budget_statuses(client, budgets, NOON + timedelta(hours=6))
    return {s.budget.id: s.spend_usd for s in statuses if s.period.start.date() == DAY}


def budget(id: str, scope: str, target: str | None) -> Budget:
    return Budget(id=id, scope=scope, target=target, period="day", amount_usd=Decimal(10), slack_channel="#x")


def test_team_budgets_count_claude_code_where_its_users_are_and_person_budgets_their_estimate(simulator, ch,
                                                                                              config):
    run([admin_cost_daily, claude_code_usage_daily, claude_code_team_daily], ch, config)
    with ch.connect() as client:  # the rollup books the Claude Code workspace to its owner (platform)
        client.insert("spend_hourly", [
            [NOON, "platform", "", "", WORKSPACE, "apikey_cc", "admin", Decimal("1.651234")],
            [NOON, "search", "query", "prod", "wrkspc_search", "apikey_search", "admin", Decimal("3")]],
            column_names=["hour", "team", "feature", "env", "workspace_id", "api_key_id", "source", "spend_usd"])

    assert day_spend(ch, [budget("org", "org", None), budget("search", "team", "search"),
                          budget("platform", "team", "platform"), budget("cc", "workspace", WORKSPACE),
                          budget("ana", "person", pseudonym(ANA)), budget("dana", "person", pseudonym(DANA))]) == {
        "org": Decimal("4.651234"),  # unchanged: the split moves spend between teams, adds none
        "search": Decimal("4.000747878788"),  # 3 + Ana's share of the Claude Code invoice
        "platform": Decimal("0.650486121212"),  # the CI key's share only
        "cc": Decimal("1.651234"),
        "ana": Decimal("1.00"),  # her Claude Code estimate
        "dana": Decimal("2.12"),  # a subscription seat's estimate
    }


def test_a_person_budget_naming_an_email_fails_naming_the_budget_and_field(tmp_path):
    path = tmp_path / "ledger.yaml"
    path.write_text(CONFIG + f"budgets:\n  - {{id: ana-daily, scope: person, target: {ANA}, period: day, "
                    "amount_usd: 5, slack_channel: '#x'}\n")

    with pytest.raises(LedgerConfigError, match=r"budgets\.0: budget 'ana-daily': target: a person budget names "
                       r"the person's pseudonym"):
        LedgerConfig(path=str(path)).section(BudgetsConfig)


def test_the_allocation_leaves_the_claude_code_workspace_out_of_event_coverage(config):
    assert claude_code_workspaces(config) == frozenset({WORKSPACE})


def test_a_bad_claude_code_section_leaves_the_allocation_checks_as_they_are(tmp_path):
    path = tmp_path / "ledger.yaml"
    path.write_text(CONFIG.replace("page_size: 1", "page_size: 0"))

    assert claude_code_workspaces(LedgerConfig(path=str(path))) == frozenset()


def test_without_a_claude_code_workspace_the_api_estimate_is_shown_but_not_charged(simulator, ch, tmp_path):
    path = tmp_path / "ledger.yaml"
    path.write_text(CONFIG.replace(f"  workspace_id: {WORKSPACE}\n", ""))

    run([admin_cost_daily, claude_code_usage_daily, claude_code_team_daily], ch, LedgerConfig(path=str(path)))

    assert ch.query_rows("SELECT team, customer_type, estimated_cost_usd, charged_usd FROM claude_code_team_daily "
                         "FINAL WHERE customer_type = 'api' ORDER BY team") == [
        ("platform", "api", Decimal("0.65"), Decimal(0)), ("search", "api", Decimal("1.00"), Decimal(0))]


# The collector's write path over and over in one process, so that a SIGKILL lands in the middle of a write.
COLLECT_FOREVER = f"""
import sys
from datetime import datetime
from pipelines.admin_api.client import AdminApiClient
from pipelines.claude_code.collect import collect_claude_code
from pipelines.claude_code.config import ClaudeCodeConfig
from pipelines.claude_code.pseudonyms import Pseudonymiser
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
config = LedgerConfig(path=sys.argv[1]).section(ClaudeCodeConfig)
start = datetime.fromisoformat("{DAY_KEY}T00:00:00+00:00")
end = datetime.fromisoformat("{(DAY + timedelta(days=1)).isoformat()}T00:00:00+00:00")
with ch.connect():
    while True:
        collect_claude_code(AdminApiClient.from_env(), ch, config, Pseudonymiser(key="{KEY}"), start, end)
        print("written", flush=True)
"""


def test_a_collection_killed_at_any_moment_loses_nothing_and_counts_nothing_twice(simulator, ch, config, tmp_path):
    """After each SIGKILL the day reads whole: three actors, 100 + 65 + 212 cents = $3.77, two people."""
    def day() -> tuple:
        return (*ch.query_rows("SELECT count(), sum(estimated_cost_usd) FROM claude_code_usage_daily FINAL")[0],
                *ch.query_rows("SELECT count() FROM claude_code_activity_daily FINAL")[0],
                *ch.query_rows("SELECT count() FROM finance_claude_code_people FINAL")[0])

    assert killed_repeatedly(COLLECT_FOREVER, [config.path], day, ch=ch, seed=11) == [
        (3, Decimal("3.77"), 3, 2)] * 5


SPLIT_FOREVER = f"""
import sys
from datetime import UTC, date, datetime
from pipelines.claude_code.spend import replace_team_spend
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
with ch.connect():
    while True:
        replace_team_spend(ch, "{WORKSPACE}", date.fromisoformat("{DAY_KEY}"),
                           date.fromisoformat("{(DAY + timedelta(days=1)).isoformat()}"), datetime.now(UTC))
        print("written", flush=True)
"""


def test_a_split_killed_at_any_moment_charges_the_invoice_once(simulator, ch, config):
    """The same figures as the split spec above, and the day's one reconciliation row, after every SIGKILL."""
    run([admin_cost_daily, claude_code_usage_daily], ch, config)

    def split() -> tuple:
        return (ch.query_rows("SELECT team, customer_type, charged_usd FROM claude_code_team_daily FINAL "
                              "ORDER BY team"),
                ch.query_rows("SELECT count(), sum(cost_report_usd) FROM claude_code_reconciliation_daily FINAL"))

    assert killed_repeatedly(SPLIT_FOREVER, [], split, ch=ch, seed=13) == [(
        [("data", "subscription", Decimal(0)), ("platform", "api", Decimal("0.650486121212")),
         ("search", "api", Decimal("1.000747878788"))], [(1, Decimal("1.651234"))])] * 5
