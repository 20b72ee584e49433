"""Secrets reach resources one way: as Dagster ``EnvVar`` values, which the UI and run storage show by
name only. ``from_env()`` of a resource passes ``secret("NAME")``; the resource reads it with ``reveal``,
which also works when a script or a test uses the resource outside a Dagster run (where Dagster has not
resolved the variable yet)."""

from __future__ import annotations

import os

from dagster import EnvVar


def secret(name: str) -> str:
    """``EnvVar(name)`` when the variable is set, else "" (the feature that needs it is off)."""
    return EnvVar(name) if os.environ.get(name, "").strip() else ""


def reveal(value: str) -> str:
    """The secret's value: an unresolved ``EnvVar`` is read from the environment now."""
    return (value.get_value() or "") if isinstance(value, EnvVar) else value
