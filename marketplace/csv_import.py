"""Parse an uploaded CSV file row by row through a Django form, collecting every error with its line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

MAX_CSV_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class CsvResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _decode(raw: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def parse_csv(uploaded: UploadedFile, form_class: type[forms.Form], *, max_rows: int = 10000) -> CsvResult:
    """Validate every row of uploaded with form_class; the header names the form's fields."""
    result = CsvResult()
    if uploaded.size and uploaded.size > MAX_CSV_BYTES:
        result.errors.append(RowError(0, "", "The file is larger than 20 MB."))
        return result
    text = _decode(uploaded.read())
    if text is None:
        result.errors.append(RowError(0, "", "The file is not text: save it as CSV (UTF-8)."))
        return result
    if "\x00" in text:
        result.errors.append(RowError(0, "", "The file is not a CSV file."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        result.errors.append(RowError(1, "", unreadable_csv_message(exc)))
        return result
    if not header:
        result.errors.append(RowError(0, "", "The file is empty."))
        return result
    reader.fieldnames = header
    expected = list(form_class.base_fields)
    required = [name for name, f in form_class.base_fields.items() if f.required]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name and name not in expected]
    if missing:
        result.errors.append(RowError(1, "", f"Missing column(s): {', '.join(missing)}."))
    if unknown:
        result.errors.append(
            RowError(1, "", f"Unknown column(s): {', '.join(unknown)}. Expected: {', '.join(expected)}.")
        )
    if missing or unknown:
        return result
    try:
        _read_rows(reader, form_class, max_rows, result)
    except csv.Error as exc:
        result.errors.append(RowError(reader.line_num, "", unreadable_csv_message(exc)))
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", "The file has a header but no rows."))
    return result


def unreadable_csv_message(exc: csv.Error) -> str:
    """What to tell someone whose file the csv module refuses (a quote never closed, a cell past its limit)."""
    return (
        f"The file is not readable as CSV ({exc}): look for a quote that is never closed or a cell longer than "
        f"{csv.field_size_limit():,} characters."
    )


def _read_rows(reader: csv.DictReader[str], form_class: type[forms.Form], max_rows: int, result: CsvResult) -> None:
    for count, raw in enumerate(reader, start=1):
        index = reader.line_num  # the file's own line number, blank lines included
        if count > max_rows:
            result.errors.append(RowError(index, "", f"Too many rows: at most {max_rows} per file."))
            break
        if None in raw:
            result.errors.append(RowError(index, "", "This row has more cells than the header."))
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        if not any(values.values()):
            continue  # blank line
        form = form_class(data=values)
        if form.is_valid():
            result.rows.append({**form.cleaned_data, "line": index})
        else:
            for name, messages in form.errors.items():
                for message in messages:
                    result.errors.append(RowError(index, "" if name == "__all__" else name, str(message)))
