"""Stable pseudonyms for people: ``person_`` + the first 20 hex digits of HMAC-SHA256(key, lower-cased email).

The key is ``LEDGER_PSEUDONYM_KEY`` (a secret, an ``EnvVar``): without it nobody can recompute a pseudonym
from a guessed email (a plain hash of an email could be reversed by hashing a staff list). Keep the key: a new
key gives everyone new pseudonyms, so history before and after no longer joins.
"""

from __future__ import annotations

import hashlib
import hmac

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.secrets import reveal, secret

PSEUDONYM_HEX_DIGITS = 20


class PseudonymKeyMissing(RuntimeError):
    """LEDGER_PSEUDONYM_KEY is unset: people's usage cannot be stored without exposing their emails."""


class Pseudonymiser(ConfigurableResource):
    """Turns an email into its pseudonym with the key ``LEDGER_PSEUDONYM_KEY``."""

    key: str = Field(default="", description="HMAC key, EnvVar LEDGER_PSEUDONYM_KEY; empty: the Claude Code "
                     "collector fails clearly.")

    @classmethod
    def from_env(cls) -> Pseudonymiser:
        return cls(key=secret("LEDGER_PSEUDONYM_KEY"))

    def pseudonym(self, email: str) -> str:
        key = reveal(self.key)
        if not key:
            raise PseudonymKeyMissing("LEDGER_PSEUDONYM_KEY is not set: Claude Code usage names people, and the "
                                      "ledger stores them only under a keyed pseudonym (docs/claude_code.md)")
        digest = hmac.new(key.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()
        return f"person_{digest[:PSEUDONYM_HEX_DIGITS]}"
