"""Settings from the environment (prefix `ORDERGATE_`), never from the repository.

The embedded default needs no service: a SQLite file and inbox folders under `var/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'ordergate.db').resolve()}"

    @property
    def inbox_root(self) -> Path:
        return self.home / "inbox"


@cache
def get_settings() -> Settings:
    return Settings()
