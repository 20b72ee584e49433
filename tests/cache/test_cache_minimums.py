"""Specification of the minimum cacheable prefix length: bundled per model family, overridable in LEDGER_CONFIG."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cache_data import HAIKU, every, send

from pipelines.cache.analysis import refresh_cache_analysis
from pipelines.cache.config import CacheConfig
from pipelines.cache.minimums import bundled_minimums, minimum_rows
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.pricing.assets import load_prices


def test_bundled_minimums_follow_anthropics_documented_lengths():
    minimums = bundled_minimums()
    assert minimums["claude-sonnet-4-5"] == 1024
    assert minimums["claude-opus-4-1"] == 1024
    assert minimums["claude-opus-4-5"] == 4096
    assert minimums["claude-haiku-4-5"] == 4096
    assert minimums["claude-3-5-haiku"] == 2048
    assert (minimums["claude-opus-5-5"], minimums["claude-opus-4-7"], minimums["claude-haiku-5-5"]) == (512, 2048, 512)


def test_a_config_minimum_replaces_the_bundled_one(tmp_path, monkeypatch):
    config = tmp_path / "ledger.yaml"
    config.write_text("cache_minimums:\n  claude-haiku-4-5: 2048\n")
    monkeypatch.setenv("LEDGER_CONFIG", str(config))
    assert ["claude-haiku-4-5", 2048, "config"] in minimum_rows(LedgerConfig().section(CacheConfig).cache_minimums)


def test_a_minimum_below_one_token_is_rejected(tmp_path, monkeypatch):
    config = tmp_path / "ledger.yaml"
    config.write_text("cache_minimums:\n  claude-haiku-4-5: 0\n")
    monkeypatch.setenv("LEDGER_CONFIG", str(config))
    with pytest.raises(LedgerConfigError, match=r"cache_minimums\.claude-haiku-4-5"):
        LedgerConfig().section(CacheConfig)


def test_a_lower_config_minimum_makes_a_short_prefix_an_opportunity(ch, tmp_path, monkeypatch):
    config = tmp_path / "ledger.yaml"
    config.write_text("cache_minimums:\n  claude-haiku-4-5: 2048\n")
    monkeypatch.setenv("LEDGER_CONFIG", str(config))
    load_prices(ch)
    send(ch, every(timedelta(seconds=30), 10, prefix_tokens=2_400), model=HAIKU)
    refresh_cache_analysis(ch, cache_minimums=LedgerConfig().section(CacheConfig).cache_minimums)
    assert ch.query_rows("SELECT prompt_prefix_hash, min_prefix_tokens FROM cache_opportunities") == [
        ("prefix-a", 2048)]
