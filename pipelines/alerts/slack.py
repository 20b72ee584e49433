"""Slack as the alert channel: the Web API (``chat.postMessage``), an incoming webhook, or the log.

Configured from ``SLACK_BOT_TOKEN`` / ``SLACK_API_URL`` or ``SLACK_WEBHOOK_URL``; with neither, alerts are
written to the log (and still recorded in ``alerts_sent``). slack-sdk's own retries are switched off:
a failed send is retried on the sensor's next tick, after a 429's Retry-After, never inside a tick.
Tokens and webhook URLs never reach a log line or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from pipelines import settings
from pipelines.alerts.delivery import Accepted, Alert, AlertSender, RateLimited, Rejected, SendOutcome, Unavailable
from pipelines.secrets import reveal, secret

DEFAULT_RETRY_AFTER_S = 30.0
# chat.postMessage errors that a later attempt can get past.
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Errors that no send with this configuration can get past.
CONFIGURATION_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                        "missing_scope", "no_permission", "ekm_access_denied"}


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return DEFAULT_RETRY_AFTER_S


class SlackWebApiSender:
    """``chat.postMessage`` with Block Kit and the plain-text fallback."""

    def __init__(self, token: str, base_url: str = "", timeout_s: int = 10) -> None:
        base = (base_url or WebClient.BASE_URL).rstrip("/") + "/"
        self._client = WebClient(token=token, base_url=base, timeout=timeout_s, retry_handlers=[])

    def send(self, alert: Alert) -> SendOutcome:
        try:
            response = self._client.chat_postMessage(
                channel=alert.channel, text=alert.text, blocks=list(alert.blocks) or None,
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error") or f"HTTP {status}")
            if status == 429 or error == "ratelimited":
                return RateLimited(_retry_after(exc.response.headers))
            if status >= 500:
                return Unavailable(f"HTTP {status}")
            if error in TRANSIENT_ERRORS:
                return Unavailable(error)
            return Rejected(error, affects_all=error in CONFIGURATION_ERRORS)
        except OSError as exc:  # URLError, connection refused or reset, timeouts
            return Unavailable(f"network error ({type(exc).__name__})")
        return Accepted("slack", str(response.get("ts", "")))


class SlackWebhookSender:
    """An incoming webhook: one fixed channel, so every rejection is a configuration problem."""

    def __init__(self, url: str, timeout_s: int = 10) -> None:
        self._client = WebhookClient(url, timeout=timeout_s, retry_handlers=[])

    def send(self, alert: Alert) -> SendOutcome:
        try:
            response = self._client.send(text=alert.text, blocks=list(alert.blocks) or None)
        except OSError as exc:
            return Unavailable(f"network error ({type(exc).__name__})")
        if response.status_code == 200:
            return Accepted("webhook")
        if response.status_code == 429:
            return RateLimited(_retry_after(response.headers))
        if response.status_code >= 500:
            return Unavailable(f"HTTP {response.status_code}")
        return Rejected(f"webhook answered HTTP {response.status_code}: {response.body[:100]}", affects_all=True)


class LogSender:
    """No Slack configured: the alert is a log line (and, like any alert, a row in alerts_sent)."""

    def __init__(self, log: logging.Logger | Any) -> None:
        self._log = log

    def send(self, alert: Alert) -> SendOutcome:
        self._log.warning("ALERT (no Slack configured) %s", alert.text)
        return Accepted("log")


class SlackResource(ConfigurableResource):
    """Where alerts go: the Slack Web API when ``bot_token`` is set, else a webhook, else the log."""

    bot_token: str = Field(default="", description="Slack bot token (from SLACK_BOT_TOKEN).")
    api_url: str = Field(default="", description="slack-sdk base_url; empty: https://slack.com/api/.")
    webhook_url: str = Field(default="", description="Incoming webhook URL (from SLACK_WEBHOOK_URL).")
    dagster_ui_url: str = Field(default="", description="Dagster UI address for links in alerts.")
    timeout_s: int = Field(default=10, description="HTTP timeout of one send.")

    @classmethod
    def from_env(cls) -> SlackResource:
        """Secrets are passed as EnvVar, so the Dagster UI shows the variable's name, never its value."""
        return cls(
            bot_token=secret("SLACK_BOT_TOKEN"),
            api_url=settings.slack_api_url() or "",
            webhook_url=secret("SLACK_WEBHOOK_URL"),
            dagster_ui_url=settings.dagster_ui_url() or "",
        )

    @property
    def destination(self) -> str:
        return "slack" if self.bot_token else "webhook" if self.webhook_url else "log"

    def sender(self, log: logging.Logger | Any) -> AlertSender:
        if self.bot_token:
            return SlackWebApiSender(reveal(self.bot_token), self.api_url, self.timeout_s)
        if self.webhook_url:
            return SlackWebhookSender(reveal(self.webhook_url), self.timeout_s)
        return LogSender(log)
