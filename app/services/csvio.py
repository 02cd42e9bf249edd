"""Reading the CSV files people bring (DESIGN.md §4.2) and writing safe CSV.

UTF-8 with or without BOM, or Windows-1252; header names matched case- and space-insensitively
with aliases. Every problem is reported with its line number and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.errors import ValidationError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header_key(text: str) -> str:
    """'NHS Number', 'nhs_number' and ' nhs number ' all become 'nhsnumber'."""
    return re.sub(r"[^0-9a-z]", "", text.strip().lower())


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        col = f", column {self.column}" if self.column else ""
        return f"line {self.line}{col}: {self.reason}"


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: Mapping[str, str]  # canonical column name -> stripped text ('' when absent)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass(frozen=True)
class CsvTable:
    file_name: str
    columns: tuple[str, ...]  # canonical names present
    ignored_headers: tuple[str, ...]
    rows: tuple[CsvRow, ...]


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file_name: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: tuple[RowProblem, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = [
            f"{self.file_name}: {self.rows} rows read",
            f"{self.created} {self.kind} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.rejected:
            parts.append(f"{len({p.line for p in self.rejected})} rows rejected")
        text = ", ".join(parts) + "."
        return "\n".join([text, *self.notes])


class ImportRefused(ValidationError):
    """The file had invalid rows and --skip-invalid was not given: nothing was written."""

    def __init__(self, file_name: str, problems: Sequence[RowProblem]) -> None:
        problems = sorted(problems, key=lambda p: p.line)  # stable: columns keep their order
        lines = sorted({p.line for p in problems})
        head = (
            f"{file_name}: {len(lines)} invalid row{'s' if len(lines) != 1 else ''}, "
            "nothing imported (fix them, or use --skip-invalid to import the valid rows):"
        )
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))
        self.problems = tuple(problems)


def _decode(raw: bytes, file_name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{file_name} is neither UTF-8 nor Windows-1252 text (byte {exc.start}); "
            "save it as CSV UTF-8."
        ) from exc


def read_csv(
    path: Path,
    *,
    columns: Mapping[str, Sequence[str]],
    required: Iterable[str],
) -> CsvTable:
    """Read ``path``; ``columns`` maps each canonical name to its accepted aliases.

    Refuses (ValidationError naming the file) a file that cannot be read, is empty, has a
    duplicated or missing required column, or rows with a different number of fields.
    """
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if b"\x00" in raw[:4096]:
        raise ValidationError(f"{name} is not a CSV text file.")
    text = _decode(raw, name)
    if not text.strip():
        raise ValidationError(f"{name} is empty.")
    lookup: dict[str, str] = {}
    for canon, aliases in columns.items():
        for alias in (canon, *aliases):
            lookup[header_key(alias)] = canon
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ValidationError(f"{name}, line 1: the header row is not valid CSV ({exc}).") from exc
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        raise ValidationError(
            f"{name}, line 1: the columns are separated by ';' or tabs, not commas; "
            "save the file as comma-separated CSV."
        )
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, h in enumerate(header):
        found = lookup.get(header_key(h))
        if found is None:
            if h.strip():
                ignored.append(h.strip())
            continue
        if found in positions:
            raise ValidationError(
                f"{name}, line 1: column {found} appears twice ('{header[positions[found]]}' "
                f"and '{h}')."
            )
        positions[found] = i
    missing = [c for c in required if c not in positions]
    if missing:
        raise ValidationError(
            f"{name}, line 1: required column{'s' if len(missing) > 1 else ''} missing: "
            + ", ".join(missing)
            + "."
        )
    rows: list[CsvRow] = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise ValidationError(
                    f"{name}, line {line}: {len(fields)} fields where the header has "
                    f"{len(header)}; check for unquoted commas."
                )
            rows.append(CsvRow(line, {c: fields[i].strip() for c, i in positions.items()}))
    except csv.Error as exc:
        raise ValidationError(f"{name}, line {reader.line_num}: malformed CSV ({exc}).") from exc
    if not rows:
        raise ValidationError(f"{name} has a header but no data rows.")
    return CsvTable(name, tuple(positions), tuple(ignored), tuple(rows))


def neutralise_cell(value: object) -> str:
    """Text safe to open in a spreadsheet: cells that would start a formula get a quote."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([neutralise_cell(h) for h in header])
        for r in rows:
            w.writerow([neutralise_cell(v) for v in r])
    tmp.replace(path)


@dataclass
class ProblemCollector:
    """Collects row problems; ``check`` runs a parser and records its ValidationError."""

    problems: list[RowProblem] = field(default_factory=list)

    def add(self, line: int, column: str, reason: str) -> None:
        self.problems.append(RowProblem(line, column, reason))

    def lines(self) -> set[int]:
        return {p.line for p in self.problems}
