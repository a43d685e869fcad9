"""Webhooks: HTTP receivers told of events, signed, retried, through a durable outbox (docs/deploy.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class WebhookSetting(BaseModel):
    """One receiver: `url`, the event types it wants (`events`, empty: all), the HMAC `secret`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    events: tuple[str, ...] = ()
    secret: SecretStr = SecretStr("")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must start with http:// or https://, got {value!r}")
        return value


class WebhookFields(BaseModel):
    """Webhook receivers and how deliveries are retried."""

    webhooks: list[WebhookSetting] = Field(
        default_factory=list,
        description='Receivers of events, as JSON: `[{"url": "https://host/hook", "events": ["transcript",'
        ' "response"], "secret": "..."}]`; an empty `events` sends every event webhooks carry (see'
        " docs/deploy.md).",
    )
    webhook_timeout_secs: float = Field(10.0, gt=0, description="How long one delivery may take.")
    webhook_retry_base_secs: float = Field(
        1.0, gt=0, description="The first retry's delay; each next one doubles it (with jitter)."
    )
    webhook_retry_max_secs: float = Field(
        300.0, gt=0, description="The longest delay between two tries of one delivery."
    )
