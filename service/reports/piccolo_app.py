import os

from piccolo.conf.apps import AppConfig

from service.reports.tables import DataReport

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[DataReport],
    migration_dependencies=["directory.piccolo_app", "service.accounts.piccolo_app"],
    commands=[],
)
