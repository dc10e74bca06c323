"""Settings come from the environment (MAILLAGE_*), so the same code runs on a laptop with
SQLite and in production with PostgreSQL by changing one URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.referrals.exchange import Rules

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'maillage.sqlite'}"


def _secret() -> str:
    # A per-process secret is fine for a demo: sessions simply end on restart.
    return os.environ.get("MAILLAGE_SECRET_KEY") or secrets.token_hex(32)


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default_factory=_secret, repr=False)
    # Address geocoding is off by default so nothing leaves the machine; set
    # geocoder="ban" and a self-hosted addok domain to turn it on.
    geocoder: str = "none"
    geocoder_domain: str = "api-adresse.data.gouv.fr"
    geocoder_scheme: str = "https"
    geocoder_timeout: float = 3.0
    search_radius_km: float = 15.0
    page_size: int = 20
    secure_cookies: bool = False
    debug: bool = False
    # A PostgreSQL connection pool lives in the server's event loop; tests drive the app
    # from several loops, so they turn it off and open a connection per query.
    database_pool: bool = True
    # SQLite in write-ahead-log mode: readers no longer wait for a writer's commit, nor it
    # for them (a third more referral life cycles per second). The server sets it on the
    # file at start-up; it stays set. Needs a local disk (not NFS), like SQLite itself.
    sqlite_wal: bool = True
    # Once the search index is built, take its million objects out of the garbage
    # collector's walks (directory.search_index._settle). Tests create many apps in one
    # process and turn it off.
    gc_freeze: bool = True
    # How often a server process hands the memory it freed back to the system
    # (service.memory); 0: never.
    memory_trim_seconds: float = 10.0
    # Outgoing mail: with no SMTP host, messages are written as .eml files into
    # mail_outbox, so a demo or a laptop works offline and nothing leaves the machine.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    # Implicit TLS from the first byte (usually port 465); takes precedence over STARTTLS.
    smtp_tls: bool = False
    mail_sender: str = "maillage@localhost"
    mail_outbox: Path = ROOT / "var" / "outbox"
    # Deliver the mail outbox from inside the server; false leaves it to `maillage send-mail`.
    mail_worker: bool = True
    # Uploaded files (signed conventions).
    media_dir: Path = ROOT / "var" / "media"
    # Where links in emails point: the address people reach this server at.
    base_url: str = "http://127.0.0.1:8000"
    # Referral deadlines, in French working days, and personal links' lifetimes in days.
    acknowledge_days: int = 5
    answer_days: int = 10
    partner_link_days: int = 14
    young_person_link_days: int = 90
    # A referral unanswered this many days after its answer deadline expires.
    expire_after_days: int = 30
    # Young people's data is anonymised this many months after their last referral closed.
    retention_months: int = 24
    # Import reports name partner staff: `maillage purge` erases them after this many days.
    import_retention_days: int = 30
    # Run the reminders inside the server every N minutes; 0 leaves it to `maillage remind`.
    remind_every_minutes: int = 0

    @property
    def https(self) -> bool:
        """Served over HTTPS: cookies are then Secure and browsers are told to stay on HTTPS."""
        return self.base_url.lower().startswith("https://")

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies or self.https

    @property
    def referral_rules(self) -> Rules:
        from service.referrals.exchange import Rules

        return Rules(
            acknowledge_days=self.acknowledge_days,
            answer_days=self.answer_days,
            partner_link_days=self.partner_link_days,
            young_person_link_days=self.young_person_link_days,
        )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("MAILLAGE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "geocoder": env.get("MAILLAGE_GEOCODER", "none"),
            "geocoder_domain": env.get("MAILLAGE_GEOCODER_DOMAIN", cls.geocoder_domain),
            "geocoder_scheme": env.get("MAILLAGE_GEOCODER_SCHEME", cls.geocoder_scheme),
            "geocoder_timeout": float(env.get("MAILLAGE_GEOCODER_TIMEOUT", "3")),
            "search_radius_km": float(env.get("MAILLAGE_SEARCH_RADIUS_KM", "15")),
            "secure_cookies": _bool("MAILLAGE_SECURE_COOKIES", False),
            "debug": _bool("MAILLAGE_DEBUG", False),
            "database_pool": _bool("MAILLAGE_DATABASE_POOL", True),
            "sqlite_wal": _bool("MAILLAGE_SQLITE_WAL", True),
            "gc_freeze": _bool("MAILLAGE_GC_FREEZE", True),
            "memory_trim_seconds": float(env.get("MAILLAGE_MEMORY_TRIM_SECONDS", "10")),
            "smtp_host": env.get("MAILLAGE_SMTP_HOST", ""),
            "smtp_port": int(env.get("MAILLAGE_SMTP_PORT", "587")),
            "smtp_username": env.get("MAILLAGE_SMTP_USERNAME", ""),
            "smtp_password": env.get("MAILLAGE_SMTP_PASSWORD", ""),
            "smtp_starttls": _bool("MAILLAGE_SMTP_STARTTLS", True),
            "smtp_tls": _bool("MAILLAGE_SMTP_TLS", False),
            "mail_sender": env.get("MAILLAGE_MAIL_SENDER", cls.mail_sender),
            "mail_outbox": Path(env.get("MAILLAGE_MAIL_OUTBOX", str(cls.mail_outbox))),
            "mail_worker": _bool("MAILLAGE_MAIL_WORKER", True),
            "base_url": env.get("MAILLAGE_BASE_URL", cls.base_url).rstrip("/"),
            "media_dir": Path(env.get("MAILLAGE_MEDIA_DIR", str(cls.media_dir))),
            "acknowledge_days": int(env.get("MAILLAGE_ACKNOWLEDGE_DAYS", "5")),
            "answer_days": int(env.get("MAILLAGE_ANSWER_DAYS", "10")),
            "partner_link_days": int(env.get("MAILLAGE_PARTNER_LINK_DAYS", "14")),
            "young_person_link_days": int(env.get("MAILLAGE_YOUNG_PERSON_LINK_DAYS", "90")),
            "expire_after_days": int(env.get("MAILLAGE_EXPIRE_AFTER_DAYS", "30")),
            "retention_months": int(env.get("MAILLAGE_RETENTION_MONTHS", "24")),
            "import_retention_days": int(env.get("MAILLAGE_IMPORT_RETENTION_DAYS", "30")),
            "remind_every_minutes": int(env.get("MAILLAGE_REMIND_EVERY_MINUTES", "0")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
