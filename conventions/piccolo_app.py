import os

from piccolo.conf.apps import AppConfig

from conventions.tables import Convention, ConventionParty

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="conventions",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Convention, ConventionParty],
    migration_dependencies=["directory.piccolo_app"],
    commands=[],
)
