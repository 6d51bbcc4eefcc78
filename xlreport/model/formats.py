"""The dataset file formats, in one registry: how each is recognised, loaded, dumped and saved.

``--format`` choices, :func:`~xlreport.model.dataset.load_dataset`,
:func:`~xlreport.model.dataset.save_dataset` and
:func:`~xlreport.model.dataset.dump_dataset` all derive from :data:`FORMATS`;
adding a format is one entry.  This module imports pandas only when a format
is used, so the command line can list the choices without it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError, FileError, UsageError

if TYPE_CHECKING:
    import pandas as pd

    from .dataset import Dataset

_TABLE_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")
_HEADERS = ("dataset.yaml", "dataset.yml", "dataset.json")  # a folder's meta, in order of preference


@dataclass(frozen=True)
class DatasetFormat:
    """One way a dataset is stored.

    ``suffixes`` recognise a file (a folder format has none); ``dump`` gives the
    whole dataset as text (None: it cannot be one text, e.g. a folder); ``save``
    writes it at a path (None: loading only).
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    load: Callable[[Path], Dataset]
    dump: Callable[[Dataset], str] | None = None
    save: Callable[[Dataset, Path], None] | None = None
    folder: bool = False


def _load_document(path: Path) -> Dataset:
    from ..textfiles import read_document
    from .dataset import Dataset

    return Dataset.from_dict(read_document(path), path=path)


def _dump_yaml(dataset: Dataset) -> str:
    import yaml

    return str(yaml.safe_dump(dataset.to_dict(), sort_keys=False, allow_unicode=True, width=120))


def _dump_json(dataset: Dataset) -> str:
    return json.dumps(dataset.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _saver(dump: Callable[[Dataset], str]) -> Callable[[Dataset, Path], None]:
    def save(dataset: Dataset, path: Path) -> None:
        from ..textfiles import write_text_atomic

        write_text_atomic(path, dump(dataset))

    return save


def _load_csv_file(path: Path) -> Dataset:
    from .dataset import Dataset, Meta, safe_stem

    name = safe_stem(path.stem).replace("-", "_")
    return Dataset(Meta(title=path.stem), {name: read_csv(path)}, path, {name: (path, "csv")})


def _load_folder(folder: Path) -> Dataset:
    header = next((folder / n for n in _HEADERS if (folder / n).exists()), None)
    if header is None:
        raise FileError("a dataset folder needs a dataset.yaml with its meta; add one", file=folder)
    dataset = _load_document(header)
    for table_file in sorted(folder.glob("*.csv")):
        name = table_file.stem
        if not _TABLE_KEY.match(name):
            raise DataError("CSV file names must be table keys (lowercase letters, digits, _); rename it", file=table_file)
        if name in dataset.tables:
            raise DataError(f"table {name!r} is given twice, here and in {header.name}; keep one", file=table_file)
        dataset.tables[name] = read_csv(table_file)
        dataset.origins[name] = (table_file, "csv")
    dataset.path = folder
    return dataset


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file's cells as text (typed later against the template, so ``00123`` stays text)."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").astype(object)
    except FileNotFoundError:
        raise FileError("file not found; check the path", file=path) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).splitlines()[0]
        raise FileError(f"unreadable CSV ({reason}); save it as UTF-8 CSV with a header row", file=path) from None


def _save_folder(dataset: Dataset, path: Path) -> None:
    """``dataset.yaml`` (the meta) and one ``<table>.csv`` per table, swapped in whole (see :func:`atomic_folder`)."""
    import yaml

    from ..atomic import atomic_folder
    from .tables import keys_of, raw

    with atomic_folder(path, keep=lambda p: p.is_file() and (p.suffix.lower() == ".csv" or p.name in _HEADERS)) as staging:
        meta = yaml.safe_dump({"meta": dataset.to_dict()["meta"]}, sort_keys=False, allow_unicode=True)
        (staging / "dataset.yaml").write_text(meta, encoding="utf-8")
        for name in dataset.tables:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=keys_of(raw(dataset.tables)[name]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in dataset.records(name))
            (staging / f"{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")


FORMATS: dict[str, DatasetFormat] = {
    f.name: f
    for f in (
        DatasetFormat("yaml", "a YAML file", (".yaml", ".yml"), _load_document, _dump_yaml, _saver(_dump_yaml)),
        DatasetFormat("json", "a JSON file", (".json",), _load_document, _dump_json, _saver(_dump_json)),
        DatasetFormat("csv", "a folder: dataset.yaml (the meta) and one <table>.csv per table", (), _load_folder, None, _save_folder, folder=True),
        DatasetFormat("csv-file", "one CSV file: a single table", (".csv",), _load_csv_file),
    )
}
SAVE_FORMATS = tuple(name for name, f in FORMATS.items() if f.save is not None)  # the --format choices


def format_named(name: str) -> DatasetFormat:
    """The format called ``name``; a name that cannot be saved is a UsageError."""
    found = FORMATS.get(name)
    if found is None or found.save is None:
        raise UsageError(f"unknown dataset format {name!r}; use one of: {', '.join(SAVE_FORMATS)}")
    return found


def format_of(path: Path) -> DatasetFormat | None:
    """The format a path's suffix names (a path without a suffix is a folder); None when unknown."""
    suffix = path.suffix.lower()
    if not suffix:
        return next(f for f in FORMATS.values() if f.folder)
    return next((f for f in FORMATS.values() if suffix in f.suffixes), None)


def save_format(path: Path, name: str | None = None) -> DatasetFormat:
    """The format to save at ``path``: the one called ``name``, else the one its suffix names (none: a CSV folder)."""
    found = format_named(name) if name else format_of(path)
    if found is None or found.save is None:
        raise UsageError(f"cannot tell the format of {str(path)!r}; use a .yaml, .json or folder path, or pass format={'|'.join(SAVE_FORMATS)}")
    return found


def dump_format(name: str) -> DatasetFormat:
    """The format called ``name``, which must give one text (for standard output)."""
    found = format_named(name)
    if found.dump is None:
        raise UsageError(f"format={found.name} writes {found.description}, which cannot go to standard output; pass format=yaml or format=json")
    return found


def output_name(stem: str, fmt: DatasetFormat) -> str:
    """The file (or folder) name a dataset called ``stem`` gets in ``fmt``: ``x.yaml``, or ``x`` for a folder."""
    return stem if fmt.folder else stem + fmt.suffixes[0]


def suffixes_text() -> str:
    """'.yaml, .yml, .json, .csv or a folder of CSV files', for messages."""
    suffixes = [s for f in FORMATS.values() for s in f.suffixes]
    return ", ".join(suffixes[:-1]) + f", {suffixes[-1]} or a folder of CSV files"
