"""Sources the configuration can leave off, and how a source joins the asset graph upstream of its readers.

A source that is off contributes nothing to the code location: no asset whose every partition reads "missing", no
schedule ticking only to skip, nothing in the UI that looks like a failure (``ledger status`` says "off"). Turned on
(in ``LEDGER_CONFIG``, then the code location reloaded: `make dev` again, or Reload in the UI), its definitions
join, upstream of the assets that read it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from dagster import AssetKey, AssetSpec, Definitions, PreviewWarning

from pipelines.ledger_config import LedgerConfig


@dataclass(frozen=True)
class OptionalSource:
    defs: Definitions  # its assets, jobs, schedules and sensors
    is_on: Callable[[LedgerConfig], bool]
    feeds: tuple[AssetKey, ...] = ()  # the assets that read what it writes: downstream of it while it is on

    def asset_keys(self) -> list[AssetKey]:
        return [key for asset in self.defs.assets or () for key in asset.keys]  # type: ignore[union-attr]


def upstream_of(pipeline: Definitions, source: AssetKey, reads: Callable[[AssetSpec], bool]) -> Definitions:
    """``pipeline`` with ``source`` a dependency of every asset that ``reads`` it."""

    def feed(spec: AssetSpec) -> AssetSpec:
        return spec.merge_attributes(deps=[source]) if reads(spec) else spec

    with warnings.catch_warnings():  # mapping specs of executable assets is a Dagster preview feature
        warnings.simplefilter("ignore", PreviewWarning)
        return pipeline.map_asset_specs(func=feed)


def with_sources(pipeline: Definitions, sources: tuple[OptionalSource, ...], config: LedgerConfig) -> Definitions:
    """``pipeline`` with each source that ``config`` turns on, upstream of the assets it feeds."""
    for source in sources:
        if source.is_on(config):
            pipeline = Definitions.merge(pipeline, source.defs)
            for key in source.asset_keys():
                pipeline = upstream_of(pipeline, key, lambda spec, feeds=source.feeds: spec.key in feeds)
    return pipeline


def sources_off(sources: tuple[OptionalSource, ...], config: LedgerConfig) -> set[str]:
    """The asset names of every source that ``config`` leaves off."""
    return {key.to_user_string() for source in sources if not source.is_on(config) for key in source.asset_keys()}
