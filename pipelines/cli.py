"""``ledger``: the command line of claude-ledger (installed by ``pip install``; click, as Dagster uses)."""

from __future__ import annotations

from importlib import metadata

import click


def _version() -> str:
    try:
        return metadata.version("claude-ledger")
    except metadata.PackageNotFoundError:
        return "dev"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="ledger")
def main() -> None:
    """claude-ledger: who spends what on Anthropic's Claude API.

    The pipeline itself runs in Dagster (`make dev`, `dagster job launch`); these commands read its results.
    """
