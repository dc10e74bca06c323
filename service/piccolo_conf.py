"""Piccolo's own configuration (PICCOLO_CONF=service.piccolo_conf, set by the service
package); the app rebinds DB from settings at start-up (service.db.bind)."""

import os

from piccolo.conf.apps import AppRegistry

from service.db import engine_from_url
from service.settings import DEFAULT_DATABASE_URL

DB = engine_from_url(os.environ.get("MAILLAGE_DATABASE_URL", DEFAULT_DATABASE_URL))

APP_REGISTRY = AppRegistry(
    apps=[
        "directory.piccolo_app",
        "service.accounts.piccolo_app",
        "conventions.piccolo_app",
        "service.referrals.piccolo_app",
        "service.audit.piccolo_app",
        "service.import_jobs.piccolo_app",
        "service.campaigns.piccolo_app",
        "service.reports.piccolo_app",
    ]
)
