import os

from piccolo.conf.apps import AppConfig

from service.referrals.tables import (
    AccessLink,
    Appointment,
    Consent,
    IdempotencyKey,
    OutboxMessage,
    Referral,
    ReferralEvent,
    YoungPerson,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="referrals",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        YoungPerson,
        Referral,
        Consent,
        ReferralEvent,
        AccessLink,
        Appointment,
        OutboxMessage,
        IdempotencyKey,
    ],
    migration_dependencies=[
        "directory.piccolo_app",
        "service.accounts.piccolo_app",
        "conventions.piccolo_app",
    ],
    commands=[],
)
