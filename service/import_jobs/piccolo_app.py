import os

from piccolo.conf.apps import AppConfig

from service.import_jobs.tables import ImportJob

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="import_jobs",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[ImportJob],
    migration_dependencies=["service.accounts.piccolo_app"],
    commands=[],
)
