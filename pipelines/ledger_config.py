"""``LEDGER_CONFIG`` (``ledger.yaml``), loaded once and validated section by section, as a Dagster resource.

Each domain owns its section: a ``ConfigSection`` model in the domain's ``config.py`` whose fields are the
top-level keys it reads (allocation: ``teams``, ``owners``, ``shared_cost_policy``, ``reconciliation``;
budgets: ``budgets``; ...). ``LedgerConfig.section(Model)`` validates just those keys, so a typo in one
budget fails the budget assets and sensor with a message naming the file, section, item and field, while
allocation, chargeback and exports go on. ``problems()`` lists every section's errors, one line each: the
code location logs them when it loads.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from dagster import ConfigurableResource
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines import settings


class LedgerConfigError(ValueError):
    """A section of LEDGER_CONFIG that cannot be used; the message names file, section, item and field."""


class Strict(BaseModel):
    """Base of every config model: unknown fields are errors (a typo must fail, not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigSection(Strict):
    """A domain's part of LEDGER_CONFIG: its fields are the top-level keys it reads.

    Every subclass is registered, so the loader knows which top-level keys some domain reads (a key no
    section reads is a typo or a leftover, reported as such)."""

    registered: ClassVar[list[type[ConfigSection]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ConfigSection.registered.append(cls)

    @classmethod
    def context(cls, document: dict[str, Any]) -> dict[str, Any]:
        """Facts from elsewhere in the file a section's validators may read (e.g. the declared team names)."""
        return {}


S = TypeVar("S", bound=ConfigSection)
SIMILAR = 0.8  # how close an unknown key must be to a section's key to count as its typo


def describe(error: ValidationError) -> str:
    """Pydantic's errors as ``where: message`` parts, where = the dotted path of section, item and field."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


@dataclass(frozen=True)
class ConfigFile:
    """The parsed file: its top-level mapping, or why it could not be read at all."""

    path: Path
    document: dict[str, Any]
    error: str | None = None

    @classmethod
    def read(cls, path: Path) -> ConfigFile:
        if not path.exists():
            return cls(path, {})
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            return cls(path, {}, f"{path} is not valid YAML: {exc}")
        if not isinstance(raw, dict):
            return cls(path, {}, f"{path} must be a mapping of sections")
        return cls(path, raw)

    def known_keys(self) -> set[str]:
        return {key for model in ConfigSection.registered for key in model.model_fields}

    def typos_of(self, model: type[ConfigSection]) -> list[str]:
        """Keys of the file that no section reads and that look like one of ``model``'s keys."""
        unknown = set(self.document) - self.known_keys()
        return sorted(key for key in unknown
                      if difflib.get_close_matches(str(key), list(model.model_fields), n=1, cutoff=SIMILAR))

    def section(self, model: type[S]) -> S:
        if self.error:
            raise LedgerConfigError(self.error)
        problems = [f"{key}: Extra inputs are not permitted (a misspelt "
                    f"{difflib.get_close_matches(str(key), list(model.model_fields), n=1, cutoff=SIMILAR)[0]}?)"
                    for key in self.typos_of(model)]
        values = {key: value for key, value in self.document.items() if key in model.model_fields}
        try:
            section = model.model_validate(values, context=model.context(self.document))
        except ValidationError as exc:
            problems.insert(0, describe(exc))
            section = None
        if problems:
            raise LedgerConfigError(f"{self.path}: {'; '.join(problems)}")
        assert section is not None
        return section

    def problems(self, models: list[type[ConfigSection]]) -> list[str]:
        """One line per section that cannot be used, and per top-level key no section reads."""
        if self.error:
            return [self.error]
        found = []
        for model in models:
            try:
                self.section(model)
            except LedgerConfigError as exc:
                found.append(f"{exc} (what reads {', '.join(model.model_fields)} fails until this is fixed)")
        claimed = self.known_keys()
        found += [f"{self.path}: {key}: no part of the pipeline reads this section; it is ignored"
                  for key in sorted(set(self.document) - claimed, key=str)
                  if not any(self.typos_of(model) for model in models)]
        return found


_parsed: dict[tuple[str, bytes], ConfigFile] = {}


def load_ledger_config(path: Path | None = None) -> ConfigFile:
    """The file at ``path`` (default: ``LEDGER_CONFIG``); parsed once per content, re-read on every call."""
    path = (path or settings.ledger_config_path()).resolve()
    content = path.read_bytes() if path.exists() else b""
    key = (str(path), content)
    if key not in _parsed:
        _parsed.clear()
        _parsed[key] = ConfigFile.read(path)
    return _parsed[key]


class LedgerConfig(ConfigurableResource):
    """LEDGER_CONFIG as a resource: the file's path only (never its content) is resource config."""

    path: str = Field(default="", description="Path of the YAML file; empty: LEDGER_CONFIG, else ledger.yaml.")

    @classmethod
    def from_env(cls) -> LedgerConfig:
        return cls(path=str(settings.ledger_config_path()))

    def file(self) -> ConfigFile:
        return load_ledger_config(Path(self.path) if self.path else None)

    def section(self, model: type[S]) -> S:
        """The validated section, or ``LedgerConfigError`` naming file, section, item and field."""
        return self.file().section(model)
