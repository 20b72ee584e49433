"""A synthetic organisation and its Claude API traffic, deterministic hour by hour.

Both demo sources are views of the same calls: ``demo.events`` writes the application usage events
that the emitting services would have written, and the Admin API simulator aggregates *all* calls
into usage and cost reports. Realistic gaps are built in: the growth team's service and console use
emit no events, a few events are replayed twice, and some calls are rate-limited. One anomaly is
planted: a feature spiking for a few hours of yesterday (``PLANTED_SPIKE``, relative to the demo's current day).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache


@dataclass(frozen=True)
class Workspace:
    id: str | None  # None is the organisation's default workspace
    name: str
    # The Admin API's workspace ``tags`` (string key-value pairs), served as given; None: the API answers null.
    # Anything else (a list, a value that is not a string) is for tests of malformed tags.
    tags: dict[str, object] | list[object] | None = field(default_factory=dict)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    workspace_id: str | None
    owner_team: str
    created_at: str


@dataclass(frozen=True)
class Feature:
    team: str
    name: str
    env: str
    api_key_id: str | None  # None: console / Workbench use
    workspace_id: str | None
    model: str
    calls_per_hour: float
    input_tokens: int  # mean uncached input beyond the prompt prefix
    output_tokens: int
    prefix_tokens: int  # stable system + tools prefix
    cache_ttl_s: int  # 0: no prompt caching; 300 or 3600: cached with that lifetime
    emits_events: bool = True
    service_tier: str = "standard"
    web_searches: float = 0.0  # mean web searches per call
    long_context_share: float = 0.0  # share of calls with a long prompt (long_prompt_tokens more input)
    long_prompt_tokens: tuple[int, int] = (150_000, 400_000)
    rate_limited_share: float = 0.0  # share of calls answered 429
    speed: str = "standard"  # "fast": fast mode
    inference_geo: str = "not_available"  # where it runs: global / us for 4.6+ models; older ones do not say
    container_seconds: int = 0  # code-execution container time of each call
    session_seconds: int = 0  # Claude Managed Agents session running time of each call


WORKSPACES = (
    Workspace(None, "Default"),
    Workspace("wrkspc_01SearchProd", "Search", {"cost-center": "CC-100 Search", "env": "prod"}),
    Workspace("wrkspc_01SupportBots", "Support", {"cost-center": "CC-200 Customer Support"}),
    Workspace("wrkspc_01ResearchLab", "Research", None),
    Workspace("wrkspc_01ClaudeCode", "Claude Code"),
)

API_KEYS = (
    ApiKey("apikey_01SearchProd", "search-prod", "wrkspc_01SearchProd", "search", "2025-06-02T09:00:00Z"),
    ApiKey("apikey_01SupportBot", "support-bot", "wrkspc_01SupportBots", "support", "2025-07-14T10:30:00Z"),
    ApiKey("apikey_01GrowthMail", "growth-mailer", None, "growth", "2025-08-01T08:00:00Z"),
    ApiKey("apikey_01ResearchBatch", "research-batch", "wrkspc_01ResearchLab", "research", "2025-05-20T12:00:00Z"),
    ApiKey("apikey_01SharedPlatform", "platform-shared", None, "platform", "2025-04-11T15:45:00Z"),
    ApiKey("apikey_01ClaudeCode", "claude-code-devs", "wrkspc_01ClaudeCode", "platform", "2025-09-01T09:00:00Z"),
)

# Every price dimension shows somewhere: batch (eval-batch), fast mode (deep-dive), US inference (ticket-triage,
# agent-sessions), long context at standard rates (paper-review on Sonnet 4.6), Haiku 5.5 prompts above 100K
# (doc-summarise), web search, code execution and Managed Agents session hours, and a model newer than the
# ledger's price file (preview-eval on claude-fable-5-2: the cost report prices it).
FEATURES = (
    Feature("search", "query-rewrite", "prod", "apikey_01SearchProd", "wrkspc_01SearchProd",
            "claude-haiku-4-5-20251001", 24, 700, 120, 4800, 0),
    Feature("search", "answer-synthesis", "prod", "apikey_01SearchProd", "wrkspc_01SearchProd",
            "claude-sonnet-4-6", 10, 5000, 600, 4000, 300, web_searches=0.4, inference_geo="global"),
    Feature("support", "ticket-triage", "prod", "apikey_01SupportBot", "wrkspc_01SupportBots",
            "claude-sonnet-4-6", 12, 1500, 250, 3000, 300, rate_limited_share=0.03, inference_geo="us"),
    Feature("support", "reply-draft", "staging", "apikey_01SupportBot", "wrkspc_01SupportBots",
            "claude-opus-4-6", 1.5, 2500, 800, 5000, 300, inference_geo="global"),
    Feature("support", "agent-sessions", "prod", "apikey_01SupportBot", "wrkspc_01SupportBots",
            "claude-sonnet-4-6", 2, 4000, 900, 2500, 300, inference_geo="us", session_seconds=1800),
    Feature("growth", "email-personalise", "prod", "apikey_01GrowthMail", None,
            "claude-haiku-4-5-20251001", 8, 900, 300, 1500, 0, emits_events=False),
    Feature("research", "eval-batch", "dev", "apikey_01ResearchBatch", "wrkspc_01ResearchLab",
            "claude-opus-4-8", 3, 8000, 1500, 6000, 3600, service_tier="batch", inference_geo="global"),
    Feature("research", "paper-review", "dev", "apikey_01ResearchBatch", "wrkspc_01ResearchLab",
            "claude-sonnet-4-6", 1, 60000, 2000, 3000, 0, long_context_share=0.3, inference_geo="global"),
    Feature("research", "deep-dive", "dev", "apikey_01ResearchBatch", "wrkspc_01ResearchLab",
            "claude-opus-4-8", 0.5, 6000, 1200, 2000, 0, speed="fast", inference_geo="global"),
    Feature("research", "preview-eval", "dev", "apikey_01ResearchBatch", "wrkspc_01ResearchLab",
            "claude-fable-5-2", 0.5, 3000, 800, 2000, 0, inference_geo="global"),
    Feature("data", "doc-summarise", "prod", "apikey_01SharedPlatform", None,
            "claude-haiku-5-5", 4, 9000, 700, 1200, 0, long_context_share=0.25, long_prompt_tokens=(100_000, 180_000),
            inference_geo="global"),
    Feature("data", "notebook-agent", "prod", "apikey_01SharedPlatform", None,
            "claude-sonnet-5", 3, 3000, 500, 1500, 0, inference_geo="global", container_seconds=7200),
    Feature("search", "index-enrich", "prod", "apikey_01SharedPlatform", None,
            "claude-haiku-4-5-20251001", 6, 1200, 200, 4400, 300),
    Feature("console", "workbench", "dev", None, None,
            "claude-sonnet-4-6", 0.5, 3000, 900, 0, 0, emits_events=False, inference_geo="global"),
    # Claude Code on the API (customer_type api): the developers' sessions bill to the Claude Code workspace's
    # key and emit no application events; the Claude Code usage report splits them by developer.
    Feature("platform", "claude-code", "dev", "apikey_01ClaudeCode", "wrkspc_01ClaudeCode",
            "claude-sonnet-4-6", 4, 12000, 900, 6000, 300, emits_events=False, inference_geo="global"),
    Feature("platform", "claude-code-quick", "dev", "apikey_01ClaudeCode", "wrkspc_01ClaudeCode",
            "claude-haiku-4-5-20251001", 3, 3000, 200, 6000, 300, emits_events=False),
)

TEAMS = {
    "search": "CC-100 Search",
    "support": "CC-200 Customer Support",
    "growth": "CC-300 Growth",
    "research": "CC-400 Research",
    "data": "CC-500 Data Platform",
    "platform": "CC-500 Data Platform",
}



@dataclass(frozen=True)
class ClaudeCodeActor:
    """Who uses Claude Code (``demo/simulator/claude_code.py`` serves the report). API actors (customer_type
    api) share the Claude Code workspace's calls: a call belongs to ``API_CLAUDE_CODE_ACTORS[n % len]`` where
    ``n`` is the number in the call's user id. Subscription users (Pro/Team/Enterprise seats) bill nothing on
    the API invoice: ``subscription_day`` is their fixed weekday usage (model, input, output, cache read,
    cache creation tokens, estimated cents)."""

    actor_type: str  # "user_actor" (email_address) or "api_actor" (api_key_name)
    name: str  # the email address or the API key's name
    customer_type: str  # "api" or "subscription"
    terminal_type: str | None  # None: the report carries no terminal (a CI job)
    subscription_day: tuple[str, int, int, int, int, int] | None = None


API_CLAUDE_CODE_ACTORS = (
    ClaudeCodeActor("user_actor", "ana.lopez@example.com", "api", "vscode"),
    ClaudeCodeActor("user_actor", "ben.okafor@example.com", "api", "iTerm.app"),
    ClaudeCodeActor("user_actor", "chen.wei@research.example.com", "api", "ghostty"),
    ClaudeCodeActor("api_actor", "claude-code-ci", "api", None),
)
SUBSCRIPTION_CLAUDE_CODE_ACTORS = (
    ClaudeCodeActor("user_actor", "dana.smith@example.com", "subscription", "cursor",
                    ("claude-sonnet-4-6", 180_000, 24_000, 900_000, 60_000, 212)),
)

REPLAY_SHARE = 0.004  # events written twice (a retrying emitter): dedup must absorb them


@dataclass(frozen=True)
class PlantedSpike:
    """One feature called ``calls_per_hour`` times an hour in [first_hour, last_hour) UTC of the day ``days_ago``
    before the demo's current UTC day: the spend anomaly ``make demo`` shows and alerts (docs/anomalies.md).

    The rate is absolute, not a multiple of the feature's own: the demo's traffic runs at a third at weekends,
    so a multiple planted on a Sunday came to less than the anomaly lines' $10 (issue 23)."""

    feature: str
    days_ago: int
    first_hour: int
    last_hour: int
    calls_per_hour: float

    def day(self, today: date) -> date:
        return today - timedelta(days=self.days_ago)

    def covers(self, feature: Feature, hour: datetime, today: date) -> bool:
        return (feature.name == self.feature and hour.date() == self.day(today)
                and self.first_hour <= hour.hour < self.last_hour)


# 192 calls an hour: thirty times doc-summarise's weekday working-hours rate (4 x 1.6), some eighty-five times its
# weekend one; about $23 in the six hours whatever the weekday.
PLANTED_SPIKE = PlantedSpike("doc-summarise", days_ago=1, first_hour=10, last_hour=16, calls_per_hour=192)


@dataclass(frozen=True)
class Call:
    event_id: str
    ts: datetime
    feature: Feature
    user: str
    input_tokens: int  # uncached
    output_tokens: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    web_searches: int
    status: int
    latency_ms: int
    prefix_hash: str

    @property
    def error_type(self) -> str | None:
        return "rate_limit_error" if self.status == 429 else None

    @property
    def context_window(self) -> str:
        total = self.input_tokens + self.cache_read + self.cache_write_5m + self.cache_write_1h
        return "200k-1M" if total > 200_000 else "0-200k"


def _diurnal(hour: datetime) -> float:
    """Traffic shape: busy in working hours (UTC), quiet at night and on weekends."""
    working = 8 <= hour.hour < 19
    weekend = hour.weekday() >= 5
    return (1.6 if working else 0.4) * (0.35 if weekend else 1.0)


def _prefix_hash(feature: Feature) -> str:
    return hashlib.sha256(f"{feature.team}/{feature.name}/prompt-v3".encode()).hexdigest()[:16]


def calls_in_hour(hour: datetime, today: date | None = None) -> tuple[Call, ...]:
    """Every call the organisation made in the hour starting at ``hour`` (UTC), in time order; ``today`` is the
    demo's current UTC day, which places ``PLANTED_SPIKE`` (default: the wall clock's)."""
    start = hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return _calls_in_hour(start, today or datetime.now(UTC).date())


@lru_cache(maxsize=2048)
def _calls_in_hour(hour: datetime, today: date) -> tuple[Call, ...]:
    calls: list[Call] = []
    for feature in FEATURES:
        rng = random.Random(f"{hour.isoformat()}|{feature.team}|{feature.name}")
        spiking = PLANTED_SPIKE.covers(feature, hour, today)
        expected = PLANTED_SPIKE.calls_per_hour if spiking else feature.calls_per_hour * _diurnal(hour)
        count = sum(1 for _ in range(int(expected * 3)) if rng.random() < 1 / 3)
        offsets = sorted(rng.uniform(0, 3600) for _ in range(count))
        last_prefix_use = -10_000.0
        for offset in offsets:
            calls.append(_call(feature, hour, offset, rng, offset - last_prefix_use))
            last_prefix_use = offset
    return tuple(sorted(calls, key=lambda c: c.ts))


def _call(feature: Feature, hour: datetime, offset: float, rng: random.Random, since_last: float) -> Call:
    ts = hour + timedelta(seconds=offset)
    event_id = f"evt_{rng.getrandbits(96):024x}"
    user = f"u_{rng.randrange(1, 400):04d}"
    if rng.random() < feature.rate_limited_share:
        return Call(event_id, ts, feature, user, 0, 0, 0, 0, 0, 0, 429, rng.randint(20, 80), _prefix_hash(feature))
    uncached = max(1, int(rng.gauss(feature.input_tokens, feature.input_tokens * 0.3)))
    if rng.random() < feature.long_context_share:
        uncached += rng.randint(*feature.long_prompt_tokens)
    read = write_5m = write_1h = 0
    if feature.cache_ttl_s and feature.prefix_tokens:
        # The prefix is read from cache when the previous use was within its lifetime (the
        # approximation ignores that a read refreshes the lifetime), otherwise written again.
        if since_last <= feature.cache_ttl_s:
            read = feature.prefix_tokens
        elif feature.cache_ttl_s == 3600:
            write_1h = feature.prefix_tokens
        else:
            write_5m = feature.prefix_tokens
    else:
        uncached += feature.prefix_tokens
    output = max(1, int(rng.gauss(feature.output_tokens, feature.output_tokens * 0.4)))
    searches = sum(1 for _ in range(3) if rng.random() < feature.web_searches / 3)
    latency = int(300 + output * rng.uniform(8, 20))
    return Call(event_id, ts, feature, user, uncached, output, read, write_5m, write_1h, searches, 200,
                latency, _prefix_hash(feature))


def hours(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours from ``start`` up to, not including, ``end``."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    count = int((end - first).total_seconds() // 3600)
    return [first + timedelta(hours=i) for i in range(max(count, 0))]


@dataclass(frozen=True)
class RateLimitGroup:
    """One model group of the Rate Limits API (a family of models, with every model id and alias it covers) and
    the organisation's configured limits of it, (limiter type, value) pairs."""

    id: str
    display_name: str
    models: tuple[str, ...]
    limits: tuple[tuple[str, int], ...]


def _minute_limits(requests: int, input_tokens: int, output_tokens: int) -> tuple[tuple[str, int], ...]:
    return (("requests_per_minute", requests), ("input_tokens_per_minute", input_tokens),
            ("output_tokens_per_minute", output_tokens))


# The organisation's configured limits per model group, and below them the workspace overrides: Search caps its
# Haiku traffic well under the organisation's limit (close to it in busy minutes), Research its Opus output.
RATE_LIMIT_GROUPS = (
    RateLimitGroup("rlg_01HaikuFour", "Claude Haiku 4.x",
                   ("claude-haiku-4-5", "claude-haiku-4-5-20251001"), _minute_limits(4_000, 4_000_000, 800_000)),
    RateLimitGroup("rlg_01SonnetFour", "Claude Sonnet 4.x",
                   ("claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
                   _minute_limits(4_000, 2_000_000, 400_000)),
    RateLimitGroup("rlg_01OpusFour", "Claude Opus 4.x",
                   ("claude-opus-4-8", "claude-opus-4-6", "claude-opus-4-1", "claude-opus-4-1-20250805"),
                   _minute_limits(4_000, 2_000_000, 400_000)),
    RateLimitGroup("rlg_01FiveFamily", "Claude 5.x",
                   ("claude-sonnet-5", "claude-haiku-5-5", "claude-fable-5-2"),
                   _minute_limits(2_000, 2_000_000, 400_000)),
)

WORKSPACE_RATE_LIMITS: dict[str, dict[str, tuple[tuple[str, int], ...]]] = {
    "wrkspc_01SearchProd": {"rlg_01HaikuFour": (("requests_per_minute", 6), ("input_tokens_per_minute", 30_000))},
    "wrkspc_01ResearchLab": {"rlg_01OpusFour": (("output_tokens_per_minute", 8_000),)},
}
