"""What the builder recorded in a workbook: the ``_xlreport`` sheet, the custom properties, the template copy.

An analyst may edit the hidden sheet like any other: a bad field is a finding about that field
(its cell named) and the other fields are kept.  The template copy stored in the workbook lets a
workbook read back after its template file is gone, but it must not loosen validation: when the
installed template of that name has the same version, the installed rules win, and a difference
is a ``template-modified`` warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from ..errors import UsageError
from ..findings import Finding, Report
from ..model.meta import Meta
from ..spec.loader import available, load_template
from ..spec.template import Template
from ..xlsx import contract
from ..xlsx.contract import META_SHEET, Metadata


def parse_metadata(custom: dict[str, str], rows: list[list[Any]] | None) -> Metadata:
    """The recorded facts, from the custom properties and the ``_xlreport`` sheet's cells (if any)."""
    return contract.decode_metadata(custom, None if rows is None else [[text(v) for v in row] for row in rows])


def text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def choose_template(template: str | Path | Template | None, metadata: Metadata, path: Path, report: Report) -> Template:
    """The template given, else the installed one when the stored copy has its version, else the stored copy."""
    if template is not None:
        return load_template(template)
    if not metadata.known:
        raise UsageError("the workbook has no xlreport metadata; pass template=NAME to say how to read it", file=path)
    name = metadata.values["template"]
    stored = _stored(metadata, name, report)
    installed = load_template(name) if name in available() else None
    if stored is None:
        return installed or load_template(name)  # the latter raises: unknown template
    if installed is None or installed.version != stored.version:
        return stored  # built with another version: its own rules, as recorded
    if installed.model_dump(exclude={"path"}) != stored.model_dump(exclude={"path"}):
        report.add(
            Finding(
                "warning", "template-modified",
                f"the template stored in the workbook differs from the installed {name!r} {installed.version}; "
                "read with the installed template's rules",
                sheet=META_SHEET, cell=metadata.cells.get("template_spec.1"), value=name,
            )
        )
    return installed


def _stored(metadata: Metadata, name: str, report: Report) -> Template | None:
    chunks = sorted((int(k.rpartition(".")[2]), v) for k, v in metadata.values.items() if k.startswith("template_spec."))
    if not chunks:
        return None
    try:
        stored = Template.model_validate_json("".join(v for _, v in chunks))
        if stored.name == name and stored.version == metadata.values.get("template_version", stored.version):
            return stored
    except PydanticValidationError:  # damaged by an edit: fall back to the installed template
        pass
    # A copy that does not parse, or that names another template or version than the workbook records.
    report.add(
        Finding(
            "warning", "template-damaged",
            f"the template stored in the workbook is damaged; read with the installed template {name!r}",
            sheet=META_SHEET,
        )
    )
    return None


def read_meta(metadata: Metadata, path: Path, report: Report) -> Meta:
    """The dataset's meta, field by field: a bad field is a finding, and the others are kept."""
    fields = {k.removeprefix("meta."): v for k, v in metadata.values.items() if k.startswith("meta.") and v}
    fields.setdefault("title", path.stem)
    good: dict[str, str] = {}
    for key, value in fields.items():
        if key not in Meta.model_fields:
            continue
        try:
            Meta.model_validate({"title": "x", key: value})
        except PydanticValidationError as exc:
            reason = "which is not a date; write it as YYYY-MM-DD" if key == "as_of" else f"({exc.errors()[0]['msg']}); correct it"
            report.add(
                Finding(
                    "error", "meta-invalid",
                    f"meta field {key!r} holds {value!r}, {reason} (the field was read as empty)",
                    sheet=META_SHEET, cell=metadata.cells.get(f"meta.{key}"), field=key, value=value,
                )
            )
            continue
        good[key] = value
    good.setdefault("title", path.stem)
    return Meta.model_validate(good)
