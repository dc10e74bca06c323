from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Merges of duplicate structures, people and services, with what undoes them"

_COMMON = {
    "unique": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

# (column, class, extra params)
_COLUMNS = [
    ("id", UUID, {"default": UUID4(), "primary_key": True, "index": False, "null": False}),
    ("kind", Varchar, {"length": 12, "default": "", "index": False, "null": False}),
    ("kept_id", UUID, {"default": UUID4(), "index": True, "null": False}),
    ("merged_id", UUID, {"default": UUID4(), "index": True, "null": False}),
    ("structure", UUID, {"default": UUID4(), "index": True, "null": False}),
    ("at", Timestamptz, {"default": TimestamptzNow(), "index": False, "null": False}),
    ("actor_kind", Varchar, {"length": 20, "default": "", "index": False, "null": False}),
    ("actor_label", Varchar, {"length": 300, "default": "", "index": False, "null": False}),
    ("manifest", Text, {"default": "{}", "index": False, "null": False}),
    ("undone_at", Timestamptz, {"default": None, "index": False, "null": True}),
    ("undone_by", Varchar, {"length": 300, "default": "", "index": False, "null": False}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)
    manager.add_table(
        class_name="DirectoryMerge", tablename="directory_merge", schema=None, columns=None
    )
    for column, column_class, params in _COLUMNS:
        manager.add_column(
            table_class_name="DirectoryMerge",
            tablename="directory_merge",
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={"primary_key": False, **_COMMON, **params},
            schema=None,
        )
    return manager
