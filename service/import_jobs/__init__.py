"""Import jobs: one database row per import of the directory (CSV or data·inclusion), so
that any server process shows its progress and report, and a restart loses neither."""
