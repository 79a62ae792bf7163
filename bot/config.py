"""Every setting, declared once with its default and help text.

`config.toml` documents these settings and is generated from this module (`python -m bot config-template`);
a test fails when the two disagree. Values come from, lowest precedence first: the defaults here, the TOML
file (`AMIGO_CONFIG`, else `./config.toml`), the standard `OPENAI_*` variables, then `AMIGO_<SECTION>__<KEY>`
environment variables. Secrets never come from the file: see `Secrets`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ENV_PREFIX = "AMIGO_"
DEFAULT_PROVIDER = "OpenAI"
OPENAI_HOST = "api.openai.com"


class ConfigError(Exception):
    """A bad setting: the message is one line naming the key and what is wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Section):
    library: Literal["python-telegram-bot", "aiogram"] = Field(
        "python-telegram-bot",
        description="Which Telegram library speaks to the Bot API; users and the operator see "
        "no difference (bot/ptb_adapter.py, bot/aiogram_adapter.py).",
    )
    api_base_url: str = Field(
        "https://api.telegram.org",
        description="Bot API server; point it at a local Bot API server if you run one.",
    )
    poll_timeout_seconds: int = Field(
        30, ge=0, le=50, description="Long-polling timeout for getUpdates."
    )
    typing_interval_seconds: float = Field(
        4.0, gt=0, le=5, description="How often 'typing…' is re-sent while a reply is prepared."
    )
    requests_per_second: float = Field(
        30,
        ge=0,
        description="Pace of the bot's requests that name a chat (Telegram allows about 30 "
        "messages a second); 0 = unpaced, only for a test server without limits.",
    )
    send_attempts: int = Field(
        4,
        ge=1,
        le=10,
        description="Attempts to send one message through flood control (429) and network errors.",
    )
    stream_edit_interval_seconds: float = Field(
        1.0,
        ge=0.2,
        le=10,
        description="Least time between two updates of a reply shown while the model writes it "
        "(a draft, or an edit where drafts are refused).",
    )
    mode: Literal["polling", "webhook"] = Field(
        "polling",
        description="How updates arrive: long polling (one process), or webhook (Telegram posts "
        "them to webhook_url; several workers may share one PostgreSQL). The webhook's secret "
        "token comes from TELEGRAM_WEBHOOK_SECRET.",
    )
    webhook_url: str = Field(
        "",
        description="Public HTTPS address Telegram posts updates to (webhook mode), e.g. "
        "https://bot.example.org/telegram.",
    )
    webhook_listen: str = Field(
        "0.0.0.0:8443",
        description="host:port the webhook server listens on (behind your TLS proxy); it also "
        "serves /healthz and /metrics.",
    )
    webhook_max_connections: int = Field(
        40, ge=1, le=100, description="Connections Telegram may open to the webhook at once."
    )


class LLMSettings(_Section):
    base_url: str = Field(
        "https://api.openai.com/v1",
        description="OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp). "
        "OPENAI_BASE_URL overrides it.",
    )
    model: str = Field("gpt-4o-mini", description="Model name. OPENAI_MODEL overrides it.")
    provider_name: str = Field(
        DEFAULT_PROVIDER,
        description="Who runs the model, as named to users in /privacy, /mydata and /export. "
        'Left at "OpenAI" while base_url is not OpenAI\'s, users are shown "the server at '
        '<host>" instead and start-up warns: name who runs it.',
    )
    timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest wait for the LLM server to connect or send the next bytes; "
        "a server that keeps sending slowly is stopped by deadline_seconds.",
    )
    deadline_seconds: float = Field(
        60.0,
        ge=1,
        le=600,
        description="Longest a person waits for one reply, all attempts and backoff included; "
        "past it they get the model-failure apology and their message stays stored.",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Attempts per reply on timeouts, 429, 5xx and malformed or empty answers.",
    )
    backoff_seconds: float = Field(
        1.0, ge=0, description="First retry delay; doubles on each attempt, with jitter."
    )
    stream: bool = Field(
        True,
        description="Stream replies: the person sees the answer while the model writes it "
        "(Telegram drafts, else edits); false sends each reply whole.",
    )
    temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature.")
    context_tokens: int = Field(
        8192, ge=256, description="Token budget of one request: prompt, history and reply."
    )
    reply_tokens: int = Field(
        700, ge=16, description="Tokens reserved for the reply (sent as max_tokens)."
    )
    max_reply_chars: int = Field(
        16_000,
        ge=500,
        le=100_000,
        description="Longest reply sent and stored, in characters (Telegram allows 4096 per "
        "message); a longer answer is cut at a paragraph, sentence or word end, with '…'.",
    )
    tokenizer_file: str = Field(
        "",
        description="Optional local tiktoken BPE file for exact token counts; "
        "empty = conservative estimate (nothing is downloaded).",
    )

    @model_validator(mode="after")
    def _reply_fits(self) -> LLMSettings:
        if self.reply_tokens * 2 > self.context_tokens:
            raise ValueError("reply_tokens must be at most half of context_tokens")
        return self

    @property
    def provider_unnamed(self) -> bool:
        """provider_name left at "OpenAI" while the model runs somewhere else."""
        return self.provider_name == DEFAULT_PROVIDER and _host(self.base_url) != OPENAI_HOST

    @property
    def provider_label(self) -> str:
        """Who receives messages, as users are told: never "OpenAI" for a server that is not."""
        if self.provider_unnamed:
            return f"the server at {_host(self.base_url)}"
        return self.provider_name


def _host(url: str) -> str:
    """host[:port] of a URL, without any user or password in it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host or url


def is_example_address(address: str) -> bool:
    """An address at an example domain (example.com, mail.example.org, x.example...)."""
    domain = address.rpartition("@")[2].strip().lower()
    return "example" in domain.split(".")


class StorageSettings(_Section):
    url: str = Field(
        "",
        description="PostgreSQL, e.g. postgresql://amigo@db.internal/amigo (several workers may "
        "share it); empty = the embedded SQLite file at database_path. The password belongs in "
        "AMIGO_STORAGE__URL or PGPASSWORD, not in this file.",
    )
    keys_schema: str = Field(
        "amigo_keys",
        description="PostgreSQL schema holding the wrapped per-user keys, apart from the data: "
        "dump and back it up separately (README, Running at scale).",
    )
    pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections per worker.")
    database_path: str = Field("data/amigo.db", description="SQLite database file.")
    busy_timeout_ms: int = Field(5000, ge=0, description="SQLite busy timeout.")
    window_max_messages: int = Field(
        200, ge=2, description="Most recent messages ever considered for the context window."
    )


class SecuritySettings(_Section):
    master_key_file: str = Field(
        "data/master.key",
        description="Used only when AMIGO_MASTER_KEY is unset; created on first run. "
        "Back it up and keep it apart from the database.",
    )


class PrivacySettings(_Section):
    contact_email: str = Field(
        "privacy@example.com",
        description="Privacy contact shown by /privacy and /help. `run` refuses an address at "
        "an example domain (the console accepts it): set your real one.",
    )
    policy_version: str = Field("2026-04-22", description="Version of the policy users accept.")
    policy_date: str = Field("April 22, 2026", description="Effective date of that version.")
    policy_material: bool = Field(
        False,
        description="Whether this version changed the policy materially: if so, users must "
        "accept it again before chatting on; otherwise they are told once.",
    )
    policy_change_summary: str = Field(
        "", description="What changed in this version, told to users once."
    )
    export_interval_hours: int = Field(24, ge=0, description="How often a user may run /export.")
    grievance_ack_hours: int = Field(
        72, ge=1, description="Grievances are acknowledged within this many hours."
    )
    grievance_resolve_days: int = Field(
        30,
        ge=1,
        le=90,
        description="Grievances are resolved within this many days (at most 90: longer is refused).",
    )
    policy_url: str = Field(
        "", description="Public address of the full policy; empty = /privacy sends it as a file."
    )


class RetentionSettings(_Section):
    closed_account_grace_days: int = Field(
        30, ge=30, le=90, description="Days after account deletion before its remnants are purged."
    )
    payment_records_years: int = Field(
        7,
        ge=7,
        le=8,
        description="Years payment records are kept (tax law), detached from the person.",
    )
    safety_records_days: int = Field(
        365, ge=1, description="Days safety and abuse records are kept, unless under a legal hold."
    )
    audit_log_days: int = Field(
        365, ge=365, description="Days audit-log entries are kept (at least one year)."
    )
    minor_marker_days: int = Field(
        1095, ge=1, description="Days the keyed under-18 markers are kept (they block a retry)."
    )
    consent_proof_days: int = Field(
        1095,
        ge=1,
        description="Days the proof of consent of an erased account is kept (keyed hash of the "
        "Telegram id, purposes, choices, policy versions, times; no content, no names).",
    )
    processing_log_days: int = Field(
        365,
        ge=365,
        description="Days processing-log entries (security events, ids and counts only) are kept "
        "(at least one year, DPDP Rules 2025 rule 6).",
    )
    interval_minutes: int = Field(
        60,
        ge=1,
        description="How often the retention purge runs; a run missed while down runs at start.",
    )
    batch_size: int = Field(
        500,
        ge=1,
        le=100_000,
        description="Rows deleted per short transaction, so chatting never waits long behind a purge.",
    )


class BackupSettings(_Section):
    directory: str = Field(
        "data/backups",
        description="Where backups of the main database go (owner-only). The key file "
        "(<database>-keys.db) is never copied there: back it up on its own.",
    )
    interval_hours: int = Field(24, ge=1, description="How often the scheduled backup runs.")
    keep_days: int = Field(7, ge=1, description="Backups older than this are deleted.")


class Helpline(_Section):
    country: str = Field(description="ISO country code, e.g. IN.")
    country_name: str = Field(description="Country name as users may type it in /profile.")
    name: str = Field(description="Service name as shown to users.")
    number: str = Field(description="Phone number as shown to users.")
    hours: str = Field("", description="When it answers, e.g. 24x7.")
    last_verified: str = Field(
        "", description="Date the operator last checked the number (shown to users when set)."
    )


DEFAULT_HELPLINES = (
    Helpline(country="IN", country_name="India", name="Tele-MANAS", number="14416", hours="24x7"),
    Helpline(
        country="IN",
        country_name="India",
        name="Vandrevala Foundation",
        number="+91 9999 666 555",
        hours="24x7",
    ),
    Helpline(
        country="IN",
        country_name="India",
        name="iCall (TISS)",
        number="+91 91529 87821",
        hours="Mon-Sat, 10am-8pm",
    ),
    Helpline(country="IN", country_name="India", name="Emergency", number="112", hours="24x7"),
)


class SafetySettings(_Section):
    default_country: str = Field(
        "IN", description="Helplines shown when the user's /profile country has none listed."
    )
    moderation_model: str = Field(
        "",
        description="OpenAI-compatible moderation model used besides the built-in detector; "
        "empty = built-in detector only.",
    )
    helplines: tuple[Helpline, ...] = Field(
        DEFAULT_HELPLINES,
        description="Safety resources, per country. Verify each number and set last_verified.",
    )


class LimitsSettings(_Section):
    burst: int = Field(5, ge=1, description="Messages a user may send at once before slowing down.")
    per_minute: int = Field(12, ge=1, description="Sustained messages per minute per user.")
    daily_messages: int = Field(300, ge=1, description="Messages per user per UTC day.")
    max_message_chars: int = Field(4096, ge=1, description="Longest message read.")
    repeat_threshold: int = Field(
        3, ge=2, description="The same text this many times in a row is flagged and refused."
    )
    max_concurrent_llm_calls: int = Field(
        16, ge=1, description="LLM calls in flight for the whole bot; others wait their turn."
    )
    redis_url: str = Field(
        "",
        description="Redis for the shared rate limits and repeat counters, e.g. "
        "redis://127.0.0.1:6379/0; empty = in the database (PostgreSQL) or in memory (SQLite, "
        "one process).",
    )


class PlusSettings(_Section):
    enabled: bool = Field(
        True,
        description="Offer Amigo Plus, a monthly subscription paid in Telegram Stars (/plus); "
        "false = the free tier only.",
    )
    price_stars: int = Field(
        250, ge=1, le=10_000, description="The price of 30 days of Plus, in Telegram Stars (XTR)."
    )
    daily_messages: int = Field(
        0, ge=0, description="Messages per UTC day with Plus; 0 = no daily allowance."
    )
    memory_items: int = Field(
        1000,
        ge=0,
        description="Memories kept with Plus (memory.max_items without it); 0 = as without.",
    )


class StaffMember(_Section):
    user_id: int = Field(description="The staff member's Telegram user id.")
    role: Literal["owner", "reviewer", "support"] = Field(description="What they may do.")


class AdminSettings(_Section):
    staff: tuple[StaffMember, ...] = Field(
        (),
        description="Who runs Amigo from Telegram, each with a role: owner (everything), reviewer "
        "(flags, reviews, bans), support (grievances). For example:\n"
        '# [[admin.staff]]\n# user_id = 123456789\n# role = "owner"',
    )
    ban_needs_review_days: int = Field(
        30, ge=1, description="A ban needs a review of that user within this many days."
    )


class CompanionSettings(_Section):
    default_name: str = Field("Amigo", description="Companion name offered during onboarding.")
    default_gender: Literal["female", "male", "nonbinary"] = Field(
        "nonbinary", description="Companion gender offered during onboarding."
    )
    default_tone: Literal["warm", "playful", "calm", "witty"] = Field(
        "warm", description="Companion tone offered during onboarding."
    )
    default_time_zone: str = Field(
        "Asia/Kolkata",
        description="IANA time zone for the companion's sense of date and time when a person set "
        "none in /profile and their country gives none.",
    )
    recovery_note_after_minutes: int = Field(
        10,
        ge=0,
        description="A message left unanswered by a crash or stop is answered at the next start; "
        "if it is older than this, the answer begins with a short 'sorry, I was away'.",
    )
    recovery_max_age_hours: int = Field(
        24,
        ge=1,
        description="Such a message older than this is not answered: the person is told it "
        "arrived and asked to write again (no model call).",
    )
    burst_window_seconds: float = Field(
        1.5,
        ge=0,
        le=10,
        description="Texts a person sends within this many seconds of each other, or while their "
        "reply is being written, get one reply that reads them all (each is still stored on its "
        "own); a steady typist is answered after at most 4 times this. 0 answers each at once.",
    )


class MemorySettings(_Section):
    enabled: bool = Field(
        True,
        description="Remember facts people share across conversations (each can see, correct "
        "and switch it off with /memory). false: nothing is remembered for anyone.",
    )
    extract_every_messages: int = Field(
        10,
        ge=1,
        le=100,
        description="After this many of a person's messages, the model is asked once, in the "
        "background, for new or changed facts about them (at most one extra call per this many).",
    )
    idle_hours: int = Field(
        6,
        ge=1,
        description="A conversation quiet this long is finished: what is left is read for facts "
        "and it gets a short summary, as after /new.",
    )
    max_items: int = Field(
        200,
        ge=10,
        le=10_000,
        description="Most memories kept per person; past it, the least used oldest go first "
        "(/memory says so).",
    )
    budget_share: float = Field(
        0.25,
        gt=0,
        le=0.5,
        description="Share of the context window's message budget given to memories and "
        "summaries of earlier conversations.",
    )
    summaries_in_window: int = Field(
        3, ge=0, le=20, description="Newest summaries of earlier conversations put in the window."
    )


class WorkersSettings(_Section):
    lease_seconds: float = Field(
        120.0,
        ge=2,
        description="How long a worker holds a person's replies or a scheduled job before "
        "another worker may take over (after a crash); longer than llm.deadline_seconds.",
    )
    sweep_seconds: float = Field(
        30.0,
        ge=0.5,
        description="How often each worker looks for accepted messages whose worker died "
        "(several workers on PostgreSQL).",
    )


class OpsSettings(_Section):
    listen: str = Field(
        "",
        description="host:port serving GET /healthz and GET /metrics (Prometheus) in polling "
        "mode; empty = off. In webhook mode they are served on telegram.webhook_listen.",
    )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["json", "text"] = Field(
        "json", description="json for machines, text for humans."
    )


class ConsoleSettings(_Section):
    user_id: int = Field(
        1, description="Pretend Telegram id of the person chatting in `python -m bot console`."
    )


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    llm: LLMSettings = LLMSettings()
    storage: StorageSettings = StorageSettings()
    security: SecuritySettings = SecuritySettings()
    privacy: PrivacySettings = PrivacySettings()
    retention: RetentionSettings = RetentionSettings()
    backup: BackupSettings = BackupSettings()
    safety: SafetySettings = SafetySettings()
    limits: LimitsSettings = LimitsSettings()
    plus: PlusSettings = PlusSettings()
    admin: AdminSettings = AdminSettings()
    companion: CompanionSettings = CompanionSettings()
    memory: MemorySettings = MemorySettings()
    workers: WorkersSettings = WorkersSettings()
    ops: OpsSettings = OpsSettings()
    logging: LoggingSettings = LoggingSettings()
    console: ConsoleSettings = ConsoleSettings()


@dataclass(frozen=True, repr=False)
class Secrets:
    """Secrets come only from the environment, or from a file named by `<NAME>_FILE`."""

    telegram_bot_token: str | None
    openai_api_key: str | None
    master_key: str | None
    webhook_secret: str | None = None

    def __repr__(self) -> str:  # never print a secret by accident
        return "Secrets(<redacted>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        return cls(
            telegram_bot_token=_secret(env, "TELEGRAM_BOT_TOKEN"),
            openai_api_key=_secret(env, "OPENAI_API_KEY"),
            master_key=_secret(env, "AMIGO_MASTER_KEY"),
            webhook_secret=_secret(env, "TELEGRAM_WEBHOOK_SECRET"),
        )


def _secret(env: Mapping[str, str], name: str) -> str | None:
    if value := env.get(name, "").strip():
        return value
    if path := env.get(f"{name}_FILE", "").strip():
        try:
            return Path(path).read_text().strip() or None
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read the file ({exc.strerror})") from None
    return None


_OPENAI_ENV = {"OPENAI_BASE_URL": ("llm", "base_url"), "OPENAI_MODEL": ("llm", "model")}


def load_settings(env: Mapping[str, str] | None = None, path: str | None = None) -> Settings:
    """Build Settings from file and environment, or raise ConfigError with one clear line."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    sources: dict[tuple[str, str], str] = {}
    file = Path(path or env.get("AMIGO_CONFIG") or "config.toml")
    if file.exists():
        try:
            data = tomllib.loads(file.read_text())
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from None
        for section, values in data.items():
            if isinstance(values, dict):
                for key in values:
                    sources[(section, key)] = str(file)
    elif path or env.get("AMIGO_CONFIG"):
        raise ConfigError(f"AMIGO_CONFIG: no such file: {file}")
    for var, (section, key) in _OPENAI_ENV.items():
        if value := env.get(var):
            data.setdefault(section, {})[key] = value
            sources[(section, key)] = var
    for var, value in env.items():
        if not var.startswith(ENV_PREFIX) or "__" not in var:
            continue
        section, _, key = var[len(ENV_PREFIX) :].lower().partition("__")
        data.setdefault(section, {})[key] = value
        sources[(section, key)] = var
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"])
        origin = sources.get(tuple(str(p) for p in err["loc"][:2]))  # type: ignore[arg-type]
        where = f" (from {origin})" if origin else ""
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(f"config error: {loc}: {msg}{where}") from None


def config_template() -> str:
    """The documented config.toml: every setting with its default and help text."""
    lines = [
        "# Amigo configuration. Every setting is listed with its default value.",
        "# Override any key with an environment variable AMIGO_<SECTION>__<KEY>,",
        "# for example AMIGO_LLM__MODEL=llama3.1; AMIGO_CONFIG points at another file.",
        "# Secrets are never read from this file: set TELEGRAM_BOT_TOKEN, OPENAI_API_KEY,",
        "# AMIGO_MASTER_KEY and, in webhook mode, TELEGRAM_WEBHOOK_SECRET in the environment",
        "# (or NAME_FILE pointing at a file holding it).",
        "# Regenerate with: python -m bot config-template > config.toml",
    ]
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        lines += ["", f"[{section}]"]
        tables: list[str] = []
        for key, sub in model.model_fields.items():
            if isinstance(sub.default, tuple):  # a list of tables, after the plain keys
                tables.append(f"# {sub.description}")
                for item in sub.default:
                    tables.append(f"[[{section}.{key}]]")
                    tables += [f"{k} = {_toml_value(v)}" for k, v in item.model_dump().items()]
                continue
            lines.append(f"# {sub.description}")
            lines.append(f"{key} = {_toml_value(sub.default)}")
        lines += tables
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
