"""One Settings object, read from ``COORDINATOR_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COORDINATOR_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./coordinator.db"
    # Signs bearer tokens, calendar-feed tokens and check-in codes. The development default is
    # refused by `serve` unless `debug` is on, so a production instance cannot run with it.
    secret_key: SecretStr = SecretStr("development-secret-change-me")
    debug: bool = False
    access_token_minutes: int = Field(default=60 * 12, gt=0)
    default_timezone: str = "Asia/Shanghai"
    public_base_url: str = "http://127.0.0.1:8000"

    scheduler_enabled: bool = True
    relay_interval_seconds: float = Field(default=2.0, gt=0)
    series_interval_seconds: float = Field(default=3600.0, gt=0)
    series_horizon_days: int = Field(default=90, gt=0, le=730)

    import_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    import_max_rows: int = Field(default=20_000, gt=0)

    log_json: bool = True
    log_level: str = "INFO"

    @property
    def uses_default_secret(self) -> bool:
        return self.secret_key.get_secret_value() == "development-secret-change-me"
