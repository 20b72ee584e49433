"""The house's rules, checked on the source: each domain's queries are its own and all in use, the product
never imports the demo, imports run down the layers, and the shared money rules have one home."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT

PACKAGES = ("pipelines", "demo", "bench")
SHARED_RULES = PROJECT_ROOT / "sql" / "migrations" / "0070_shared_rules.sql"

# Rooms of pipelines/ from the bottom up: a module may import its own room and the rooms below it.
LAYERS = (
    {"settings", "secrets", "emitter"},
    {"storage", "metadata", "ledger_config", "money", "sources"},
    {"events", "pricing", "admin_api", "alerts"},
    {"kafka", "allocation", "cache", "reliability", "claude_code"},
    {"budgets"},
    {"anomalies"},
    {"reports", "metrics"},
    {"definitions", "cli"},
)
LAYER_OF = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def python_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (PROJECT_ROOT / package).rglob("*.py"))


def query_references(path: Path) -> list[tuple[str, str | None]]:
    """(sql folder, query name) of every call ``x("name")`` where ``x = Queries(__file__)`` in ``path``.
    A name that is not a string literal is returned as None: it cannot be checked, so it is not allowed."""
    tree = ast.parse(path.read_text())
    loaders = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "Queries"
               for target in node.targets if isinstance(target, ast.Name)}
    folder = str(path.parent / "sql")
    return [(folder, node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in loaders]


def test_every_query_reference_names_a_query_file_of_its_own_folder():
    references = [(path, folder, name) for path in python_files(*PACKAGES) for folder, name in query_references(path)]
    assert references
    assert [(str(p), name) for p, folder, name in references if name is None] == []
    assert [(str(p), name) for p, folder, name in references if not (Path(folder) / f"{name}.sql").is_file()] == []


def test_every_query_file_is_referenced():
    used = {Path(folder) / f"{name}.sql" for path in python_files(*PACKAGES) for folder, name in query_references(path)}
    files = {p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("sql/*.sql")
             if "migrations" not in p.parts}
    assert sorted(str(p.relative_to(PROJECT_ROOT)) for p in files - used) == []


def test_the_root_sql_folder_keeps_only_what_domains_share():
    assert sorted(p.name for p in (PROJECT_ROOT / "sql").iterdir()) == ["cluster", "finance_readonly_role.sql",
                                                                      "migrations"]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] if node.module != "pipelines" else [f"pipelines.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def test_no_product_module_imports_the_demo_the_simulator_the_benchmarks_or_the_tests():
    offenders = [(str(path.relative_to(PROJECT_ROOT)), module) for path in python_files("pipelines")
                 for module in imports_of(path) if module.split(".")[0] in ("demo", "bench", "tests")]
    assert offenders == []


def room_of(module: str) -> str:
    return module.split(".")[1]


def test_every_room_of_the_package_has_a_layer():
    rooms = {p.relative_to(PROJECT_ROOT / "pipelines").parts[0].removesuffix(".py")
             for p in (PROJECT_ROOT / "pipelines").iterdir() if p.name != "__init__.py" and p.name != "__pycache__"}
    assert rooms == set(LAYER_OF)


def test_imports_run_down_the_layers():
    upward = []
    for path in python_files("pipelines"):
        own = room_of(".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts))
        for module in imports_of(path):
            if module.startswith("pipelines.") and LAYER_OF[room_of(module)] > LAYER_OF[own]:
                upward.append((str(path.relative_to(PROJECT_ROOT)), module))
    assert upward == []


def test_each_domain_combines_into_the_code_location_through_its_own_definitions():
    combined = (PROJECT_ROOT / "pipelines" / "definitions.py").read_text()
    domains = sorted(p.parent.name for p in (PROJECT_ROOT / "pipelines").glob("*/definitions.py"))
    assert domains == ["admin_api", "allocation", "anomalies", "budgets", "cache", "claude_code", "events", "kafka",
                       "pricing", "reliability", "reports"]
    assert all(f"from pipelines.{domain} import definitions as {domain}" in combined for domain in domains)


def test_job_names_match_their_python_names():
    import pipelines.admin_api.analytics_assets
    import pipelines.admin_api.definitions
    import pipelines.allocation.definitions
    import pipelines.anomalies.definitions
    import pipelines.budgets.definitions
    import pipelines.cache.definitions
    import pipelines.claude_code.definitions
    import pipelines.definitions
    import pipelines.events.definitions
    import pipelines.kafka.definitions
    import pipelines.pricing.definitions
    import pipelines.reliability.definitions
    import pipelines.reports.definitions

    modules = [pipelines.admin_api.definitions, pipelines.allocation.definitions, pipelines.anomalies.definitions,
               pipelines.budgets.definitions, pipelines.claude_code.definitions,
               pipelines.cache.definitions, pipelines.events.definitions, pipelines.kafka.definitions,
               pipelines.pricing.definitions, pipelines.reliability.definitions, pipelines.reports.definitions]
    defined = [job for module in modules for job in module.defs.jobs or ()]
    defined += [job for source in pipelines.definitions.OPTIONAL_SOURCES for job in source.defs.jobs or ()]
    modules.append(pipelines.admin_api.analytics_assets)  # the optional source's job
    jobs = {name: job for module in modules for name, job in vars(module).items()
            if any(job is known for known in defined)}
    assert len(jobs) == 14
    assert {name: job.name for name, job in jobs.items()} == {name: name for name in jobs}


@pytest.mark.parametrize("rule", ["replaceRegexpOne(model", "'cache_write_1h', 'output'", "200000"])
def test_each_shared_money_rule_is_written_once(rule):
    """Model family, the token-type unpivot and the long-context threshold: defined only by the migrations of the
    shared rules (0070, redefined by 0090), never in a query or in Python."""
    found = subprocess.run(["grep", "-rn", "--include=*.sql", "--include=*.py", rule, "pipelines", "sql", "demo",
                            "bench"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.splitlines()
    definitions = [line for line in found if not re.match(r"^[^:]+:\d+:\s*--", line)]  # comments do not count
    assert definitions
    assert {line.split(":")[0] for line in definitions} <= {"sql/migrations/0070_shared_rules.sql",
                                                           "sql/migrations/0090_price_dimensions.sql"}


def test_the_shared_rules_name_the_privilege_they_need_on_a_server():
    assert "Privilege on a ClickHouse server: CREATE FUNCTION" in SHARED_RULES.read_text()


def test_installing_the_project_creates_a_working_ledger_command():
    ledger = Path(sys.executable).parent / "ledger"
    done = subprocess.run([str(ledger), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ledger")
