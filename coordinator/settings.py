"""One Settings object, read from ``COORDINATOR_*`` environment variables (and ``.env``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The message kinds a WeChat template can be configured for, and the values a template key may
# show (``time`` is the activity's start; ``status`` a short phrase saying what happened).
WECHAT_KINDS = (
    "reminder",
    "reminder_confirm",
    "changed",
    "cancelled",
    "promoted",
    "invited",
    "released",
    "enrol_invite",
    "enrol_admit",
    "enrol_reject",
)
WECHAT_SOURCES = ("title", "time", "place", "phone", "status", "name", "volunteer", "token", "organizer")
# WeChat names each key by its value type and a number (``thing1``, ``time2``); ``keyword1`` … are
# the keys of templates from before typed keys.
WECHAT_KEY_TYPES = (
    "thing",
    "time",
    "date",
    "phrase",
    "character_string",
    "phone_number",
    "number",
    "keyword",
)
_WECHAT_KEY = re.compile(rf"^({'|'.join(WECHAT_KEY_TYPES)})(\d+)$")


def wechat_key_type(key: str) -> str | None:
    """The value type of a template key (``thing1`` → ``thing``), None when WeChat has no such key."""
    found = _WECHAT_KEY.match(key)
    return found.group(1) if found else None


class WechatTemplate(BaseModel):
    """One kind's WeChat template: its id, which of our values each key shows, and (mini program)
    the page it opens, a path inside the mini program that gets ``?token=…``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    data: dict[str, str] = Field(min_length=1)
    page: str = ""

    def problems(self, mode: str) -> list[str]:
        found: list[str] = []
        for key, source in self.data.items():
            kind = wechat_key_type(key)
            if kind is None:
                types = ", ".join(WECHAT_KEY_TYPES)
                found.append(f"key {key!r} is not a WeChat template key ({types} + a number)")
            elif source not in WECHAT_SOURCES:
                found.append(f"key {key!r} shows {source!r}, not one of {', '.join(WECHAT_SOURCES)}")
            elif kind in ("time", "date") and source != "time":
                found.append(f"key {key!r} is a {kind} and can only show 'time'")
        if self.page and mode != "mini_program":
            found.append("page is for mini program subscribe messages only")
        if "://" in self.page or self.page.startswith(("/", "http")):
            found.append(f"page {self.page!r} must be a path inside the mini program, e.g. pages/event/index")
        return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COORDINATOR_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./coordinator.db"
    # A streaming read replica of the PostgreSQL primary: statistics, exports and dashboards read
    # from it while it is at most ``replica_max_lag_seconds`` behind; a replica that fails to
    # answer is left alone for ``replica_retry_seconds`` (the primary answers meanwhile).
    database_replica_url: str = ""
    replica_max_lag_seconds: float = Field(default=30.0, gt=0)
    replica_retry_seconds: float = Field(default=30.0, gt=0)
    replica_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    # Signs bearer tokens, calendar-feed tokens, links and check-in codes. `serve` warns while it
    # is the development default, so that `make run` works at once but nobody misses it.
    secret_key: SecretStr = SecretStr("development-secret-change-me")
    debug: bool = False
    access_token_minutes: int = Field(default=60 * 12, gt=0)
    default_timezone: str = "Asia/Shanghai"
    public_base_url: str = "http://127.0.0.1:8000"
    # Addresses or networks of the reverse proxies in front (nginx): only a request from one of
    # them has its X-Forwarded-For/-Proto believed. Empty: the peer's own address is the client's,
    # so nobody can pick the address the per-address limits count.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    scheduler_enabled: bool = True
    relay_interval_seconds: float = Field(default=2.0, gt=0)
    # Outbox relay: a failing handler is retried after base·2^(attempt-1) seconds (capped, plus up
    # to 25 % jitter) and marked dead after max attempts; a claimed delivery whose process died
    # is claimed again once its lease has expired.
    relay_max_attempts: int = Field(default=10, gt=0)
    relay_backoff_base_seconds: float = Field(default=2.0, gt=0)
    relay_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    relay_lease_seconds: float = Field(default=60.0, gt=0)
    relay_batch_size: int = Field(default=100, gt=0)
    series_interval_seconds: float = Field(default=3600.0, gt=0)
    # The purge (``coordinator.retention``): handled domain events after a month, notifications
    # in a final state after more than a year, checked every hour in small chunks.
    outbox_retention_days: int = Field(default=30, gt=0)
    notification_retention_days: int = Field(default=400, gt=0)
    purge_interval_seconds: float = Field(default=3600.0, gt=0)
    series_horizon_days: int = Field(default=90, gt=0, le=730)
    # SQLite backups (``coordinator.backup``): empty writes them to a ``backups`` folder beside
    # the database; the daily tick keeps the newest ``backup_keep`` (0: no daily backup).
    backup_dir: str = ""
    backup_keep: int = Field(default=14, ge=0)

    # An invitation link is valid this long, and never past the event's start.
    invitation_valid_hours: int = Field(default=48, gt=0, le=24 * 30)
    invitation_expiry_interval_seconds: float = Field(default=300.0, gt=0)

    import_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    import_max_rows: int = Field(default=20_000, gt=0)
    # Rows written per transaction: what a request waits for at most while an import is stored.
    import_chunk_rows: int = Field(default=100, gt=0)
    # How long a SQLite transaction waits for the one writer's lock before the request answers
    # 503 ``database_busy``.
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)

    # Fernet keys (comma-separated) that encrypt volunteers' ID numbers at rest: the first
    # encrypts, every one decrypts, so a new key goes first and the old one stays until
    # `coordinator admin reencrypt-ids` has run. Empty: ID numbers cannot be stored.
    id_number_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Training (``coordinator.training``): the classes of trainees courses may target, and the
    # training hours each person must reach in a calendar year, unless their class has its own.
    trainee_classes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "department_official",
            "civil_affairs_staff",
            "city_county_lead",
            "township_station_lead",
            "social_worker",
        ]
    )
    training_required_hours: float = Field(default=24.0, ge=0)
    training_required_hours_by_class: dict[str, float] = Field(default_factory=dict)
    # The items a supervision visit checks at a station (``coordinator.supervision``).
    supervision_checklist: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "ledger_kept",
            "activities_held",
            "records_complete",
            "staff_on_duty",
            "signage_displayed",
        ]
    )

    log_json: bool = True
    log_level: str = "INFO"

    @field_validator("trusted_proxies", "trainee_classes", "supervision_checklist", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @field_validator("id_number_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # a ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _check_wechat(self) -> Self:
        problems = [
            f"COORDINATOR_WECHAT_TEMPLATES[{kind!r}]: {problem}"
            for kind, template in self.wechat_templates.items()
            for problem in (
                template.problems(self.wechat_mode)
                if kind in WECHAT_KINDS
                else [f"not a message kind ({', '.join(WECHAT_KINDS)})"]
            )
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
    # Per message kind: {"id": template id, "data": {template key: our value}, "page": path}.
    # A kind without one goes by the next channel. Checked at start-up (``_check_wechat``).
    wechat_templates: dict[str, WechatTemplate] = Field(default_factory=dict)
    wechat_base_url: str = "https://api.weixin.qq.com"
    # Where web authorization sends the browser (official account mode).
    wechat_oauth_url: str = "https://open.weixin.qq.com"
    wechat_miniprogram_state: Literal["developer", "trial", "formal"] = "formal"

    # The email channel is built only when an SMTP host is set.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    # --- Notification planning and dispatch ------------------------------------------------------
    notify_interval_seconds: float = Field(default=2.0, gt=0)
    notify_batch_size: int = Field(default=200, gt=0, le=5000)
    notify_send_concurrency: int = Field(default=50, gt=0, le=1000)
    # A claim that is not settled within the lease turns ``unknown`` (the worker died mid-send).
    notify_lease_seconds: float = Field(default=120.0, gt=0)
    notify_send_timeout_seconds: float = Field(default=30.0, gt=0)
    # ``unknown`` SMS are settled by querying the provider (``notify.resolution``) every interval
    # once they are min_age old; one Aliyun still does not list missing_after past its send never
    # reached it, and goes again.
    notify_resolve_interval_seconds: float = Field(default=300.0, gt=0)
    notify_resolve_min_age_seconds: float = Field(default=120.0, ge=0)
    notify_resolve_missing_after_seconds: float = Field(default=3600.0, gt=0)
    notify_max_attempts: int = Field(default=8, gt=0)
    # Non-urgent messages per person per local day.
    notify_daily_cap: int = Field(default=6, gt=0)
    # Shown as the organizer phone when the event's creator has none on file.
    notify_contact_phone: str = ""
    # The providers' receipt and reply callbacks must carry ``?token=`` with this value; while
    # it is empty they answer 404 (anyone could otherwise release a volunteer's place by a forged
    # reply "0").
    notify_receipt_token: SecretStr = SecretStr("")

    # --- Phone OTP login -------------------------------------------------------------------------
    otp_ttl_seconds: int = Field(default=300, gt=0)
    otp_max_attempts: int = Field(default=5, gt=0)
    otp_per_phone_per_minute: int = Field(default=1, gt=0)
    otp_per_phone_per_hour: int = Field(default=5, gt=0)
    otp_per_ip_per_hour: int = Field(default=30, gt=0)

    # --- Staff password login --------------------------------------------------------------------
    # Failed logins counted over the window, per username and per client address; beyond either
    # limit the login answers 429 until the oldest failure leaves the window. A success clears
    # the username's count.
    login_failure_window_seconds: int = Field(default=900, gt=0, le=86400)
    login_max_failures_per_username: int = Field(default=10, gt=0)
    login_max_failures_per_address: int = Field(default=30, gt=0)

    # --- Confirm-or-release ----------------------------------------------------------------------
    # People confirmed for an activity are asked the day before to confirm or release their place.
    # Reminders due before (start − this many hours) carry the link and the reply keywords;
    # whoever has not confirmed by that moment is on the event's at-risk list.
    confirm_deadline_hours: float = Field(default=12.0, gt=0, le=24 * 14)
