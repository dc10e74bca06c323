"""Settings come from the environment (MAILLAGE_*), so the same code runs on a laptop with
SQLite and in production with PostgreSQL by changing one URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

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
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
