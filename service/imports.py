"""CSV import of the directory from the web (page and API): the uploaded files are put in a
fresh folder and imported by directory.csv_io, exactly as `maillage import` does; the
outcome and its report CSV are kept under the media folder, so that the result page (after
the POST/redirect/GET) and the report download can show them."""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID

from directory.csv_io import SPECS, CsvImportError, import_directory
from directory.errors import Invalid, NotFound

REPORT = "rapport.csv"
OUTCOME = "resultat.json"
_FILES = {spec.file for spec in SPECS}


@dataclass
class Outcome:
    """What an import from the web did, as the result page and the API show it."""

    id: UUID
    done: bool  # False: refused as a whole, nothing written
    keep_valid: bool
    message: str
    problems: list[str] = field(default_factory=list)  # why refused: the import, or rows
    warnings: list[str] = field(default_factory=list)
    refused: int = 0
    has_report: bool = False


def _folder(media_dir: Path, import_id: UUID) -> Path:
    return media_dir / "imports" / str(import_id)


async def run_upload(
    uploads: list[tuple[str, bytes]], keep_valid: bool, media_dir: Path
) -> Outcome:
    """Import the uploaded files, named as in docs/csv.md (structures.csv…)."""
    named: dict[str, bytes] = {}
    for filename, content in uploads:
        name = Path(filename or "").name.lower()
        if name not in _FILES:
            raise Invalid(
                {
                    "files": f"Fichier « {filename} » inconnu : les fichiers s'appellent "
                    f"{', '.join(s.file for s in SPECS)}."
                }
            )
        if name in named:
            raise Invalid({"files": f"Le fichier {name} est envoyé deux fois."})
        named[name] = content
    if not named:
        raise Invalid({"files": "Choisissez au moins un fichier CSV."})
    import_id = uuid.uuid4()
    with tempfile.TemporaryDirectory(prefix="maillage-import-") as tmp:
        for name, content in named.items():
            (Path(tmp) / name).write_bytes(content)
        try:
            result = await import_directory(Path(tmp), keep_valid=keep_valid)
        except CsvImportError as error:
            outcome = Outcome(
                import_id, False, keep_valid, "Import refusé, rien n'a été écrit.", error.problems
            )
            report = error.report
        else:
            outcome = Outcome(
                import_id,
                True,
                keep_valid,
                result.message,
                problems=result.problems,
                warnings=result.warnings,
                refused=result.refused,
            )
            report = result.report
    folder = _folder(media_dir, import_id)
    folder.mkdir(parents=True)
    if report:
        (folder / REPORT).write_text(report, encoding="utf-8", newline="")
        outcome.has_report = True
    data = asdict(outcome) | {"id": str(import_id)}
    (folder / OUTCOME).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return outcome


def load_outcome(import_id: UUID, media_dir: Path) -> Outcome:
    path = _folder(media_dir, import_id) / OUTCOME
    if not path.is_file():
        raise NotFound("Import")
    data = json.loads(path.read_text(encoding="utf-8"))
    return Outcome(**(data | {"id": UUID(data["id"])}))


def report_path(import_id: UUID, media_dir: Path) -> Path:
    path = _folder(media_dir, import_id) / REPORT
    if not path.is_file():
        raise NotFound("Rapport d'import")
    return path
