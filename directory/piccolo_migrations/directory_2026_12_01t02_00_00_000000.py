from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "When and by whom structures and services were last verified"

_COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

# (column, class, extra params)
_COLUMNS = [
    ("verified_at", Timestamptz, {"default": None, "null": True}),
    ("verified_by_kind", Varchar, {"length": 20, "default": "", "null": False}),
    ("verified_by", Varchar, {"length": 300, "default": "", "null": False}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)
    for class_name, tablename in (("Structure", "structure"), ("Service", "service")):
        for column, column_class, params in _COLUMNS:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=column,
                db_column_name=column,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={**_COMMON, **params},
                schema=None,
            )
    return manager
