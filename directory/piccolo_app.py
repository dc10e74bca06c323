import os

from piccolo.conf.apps import AppConfig

from directory.tables import (
    DirectoryChange,
    DirectoryMerge,
    DuplicateDismissal,
    Person,
    Relationship,
    SearchRecord,
    Service,
    ServiceKey,
    Site,
    Structure,
    Territory,
)

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="directory",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        Structure,
        Site,
        Person,
        Service,
        ServiceKey,
        Relationship,
        SearchRecord,
        Territory,
        DuplicateDismissal,
        DirectoryChange,
        DirectoryMerge,
    ],
    migration_dependencies=[],
    commands=[],
)
