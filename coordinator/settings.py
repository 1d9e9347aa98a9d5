"""One Settings object, read from ``COORDINATOR_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from typing import Literal

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

    # --- Notification channels -------------------------------------------------------------------
    # Secrets are SecretStr so they never show in logs or reprs. Template maps are keyed by our
    # template keys ("reminder", "cancelled", "otp" …) and set as JSON in the environment, e.g.
    # COORDINATOR_ALIYUN_SMS_TEMPLATE_CODES='{"reminder": "SMS_123"}'.
    # "console" prints messages instead of sending them, so development needs no credentials.
    sms_provider: Literal["console", "aliyun", "tencent"] = "console"

    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: SecretStr = SecretStr("")
    aliyun_sms_sign_name: str = ""
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    aliyun_sms_region: str = "cn-hangzhou"
    aliyun_sms_template_codes: dict[str, str] = Field(default_factory=dict)

    tencent_secret_id: str = ""
    tencent_secret_key: SecretStr = SecretStr("")
    tencent_sms_sdk_app_id: str = ""
    tencent_sms_sign_name: str = ""
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_sms_template_ids: dict[str, str] = Field(default_factory=dict)
    # Tencent templates take positional parameters ({1}, {2} …): the order of our named ones.
    tencent_sms_template_params: dict[str, list[str]] = Field(default_factory=dict)

    # The WeChat channel is built only when an app id is set.
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr = SecretStr("")
    wechat_mode: Literal["official_account", "mini_program"] = "official_account"
    wechat_template_ids: dict[str, str] = Field(default_factory=dict)
    wechat_base_url: str = "https://api.weixin.qq.com"
    wechat_miniprogram_state: Literal["developer", "trial", "formal"] = "formal"

    # The email channel is built only when an SMTP host is set.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
