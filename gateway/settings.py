"""Settings from the environment (prefix `ORDERGATE_`), never from the repository.

The embedded default needs no service: a SQLite file and inbox folders under `var/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.bus.base import BusSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERGATE_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Working folder for the SQLite file and inboxes")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite+aiosqlite:///<home>/ordergate.db"
    )
    broker_url: str | None = Field(default=None, description="amqp://… for RabbitMQ; unset = embedded bus")
    host: str = "127.0.0.1"
    port: int = 8000
    inbox_poll_seconds: float = 1.0
    max_document_bytes: int = Field(default=100 * 1024 * 1024, description="Larger uploads are refused")
    duplicate_window_days: int = 90
    bus_namespace: str = Field(default="og", description="Prefix of every exchange and queue")
    retry_delays: tuple[float, ...] = Field(
        default=(1.0, 5.0, 30.0, 120.0, 600.0), description="Seconds before each retry (JSON list in env)"
    )
    max_attempts: int = Field(default=5, description="Attempts before a message is parked")
    prefetch: int = Field(default=50, description="Messages in flight per stage consumer")
    verdict_wait_seconds: float = Field(
        default=10.0, description="How long an upload waits for the translate stage's verdict"
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'ordergate.db').resolve()}"

    @property
    def inbox_root(self) -> Path:
        return self.home / "inbox"

    def bus_settings(self) -> BusSettings:
        return BusSettings(
            retry_delays=self.retry_delays, max_attempts=self.max_attempts, prefetch=self.prefetch
        )


@cache
def get_settings() -> Settings:
    return Settings()
