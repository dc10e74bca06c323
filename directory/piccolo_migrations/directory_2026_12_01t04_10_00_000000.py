from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T04:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Pairs of structures a coordinator judged not duplicates"

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
    ("left_id", UUID, {"default": UUID4(), "index": True, "null": False}),
    ("right_id", UUID, {"default": UUID4(), "index": True, "null": False}),
    ("dismissed_at", Timestamptz, {"default": TimestamptzNow(), "index": False, "null": False}),
    ("dismissed_by", Varchar, {"length": 300, "default": "", "index": False, "null": False}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)
    manager.add_table(
        class_name="DuplicateDismissal", tablename="duplicate_dismissal", schema=None, columns=None
    )
    for column, column_class, params in _COLUMNS:
        manager.add_column(
            table_class_name="DuplicateDismissal",
            tablename="duplicate_dismissal",
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={"primary_key": False, **_COMMON, **params},
            schema=None,
        )
    return manager
