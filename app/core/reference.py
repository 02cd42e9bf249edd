"""Shipped reference data: LLR GP practices and the seeded service directory.

``resources/reference/llr_practices.csv`` holds CCG -> locality -> sub-locality -> practice with
the list sizes published for sub-localities and localities (there are no per-practice sizes).
``resources/reference/services.json`` is the directory a new database starts with; users edit
it in the app afterwards. Both are checked when read: a bad file is a StorageError naming the
file and line.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from app.core.errors import StorageError, ValidationError
from app.core.resources import resource_path

SERVICE_KINDS: tuple[str, ...] = (
    "LAC",
    "FIRST_CONTACT_PLUS",
    "BEFRIENDING",
    "SOCIAL_PRESCRIBING",
    "ADULT_SOCIAL_CARE",
    "COMMUNITY_NURSING",
    "HOME_FIRST",
    "THERAPY",
    "MENTAL_HEALTH",
    "CARERS_SUPPORT",
    "OTHER",
)

SERVICE_KIND_LABELS: dict[str, str] = {
    "LAC": "Local Area Coordinator",
    "FIRST_CONTACT_PLUS": "First Contact Plus",
    "BEFRIENDING": "Befriending",
    "SOCIAL_PRESCRIBING": "Social prescribing",
    "ADULT_SOCIAL_CARE": "Adult Social Care",
    "COMMUNITY_NURSING": "Community nursing",
    "HOME_FIRST": "Home First",
    "THERAPY": "Therapy",
    "MENTAL_HEALTH": "Mental health",
    "CARERS_SUPPORT": "Carers' support",
    "OTHER": "Other",
}

PRACTICE_COLUMNS: tuple[str, ...] = (
    "ccg_code",
    "ccg_name",
    "locality",
    "locality_population",
    "sub_locality",
    "sub_locality_population",
    "practice_code",
    "practice_name",
)
SERVICE_FIELDS: tuple[str, ...] = (
    "code",
    "kind",
    "name",
    "locality",
    "description",
    "how_to_refer",
    "response_days",
)
MAX_RESPONSE_DAYS = 60

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TRAILING_BRACKET = re.compile(r"\s*\([^()]*\)\s*$")


@dataclass(frozen=True, slots=True)
class Practice:
    code: str
    name: str
    sub_locality: str
    locality: str
    ccg_code: str
    ccg_name: str
    sub_locality_population: int
    locality_population: int

    @property
    def short_name(self) -> str:
        """The name without its bracketed place or doctor: "Forest House (North Blaby)" gives
        "Forest House"."""
        return _TRAILING_BRACKET.sub("", self.name)


@dataclass(frozen=True, slots=True)
class ServiceSeed:
    code: str
    kind: str
    name: str
    locality: str | None
    description: str
    how_to_refer: str
    response_days: int


# --- practices ---------------------------------------------------------------------------


def _refuse(label: str, line: int, problem: str) -> StorageError:
    return StorageError(f"Reference file {label} line {line}: {problem}.")


def _population(label: str, line: int, column: str, value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise _refuse(label, line, f"{column} {value!r} is not a positive whole number")
    return int(value)


def read_practices(path: Path) -> tuple[Practice, ...]:
    """Read and check a practices CSV (see PRACTICE_COLUMNS)."""
    label = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StorageError(f"Reference file {label} cannot be read: {exc}.") from exc
    if not rows or tuple(cell.strip() for cell in rows[0]) != PRACTICE_COLUMNS:
        raise _refuse(label, 1, "the header must be " + ",".join(PRACTICE_COLUMNS))
    practices: list[Practice] = []
    code_lines: dict[str, int] = {}
    name_lines: dict[str, int] = {}
    # Each parent must carry the same facts on every row: {key: (facts, first line)}.
    parents: dict[tuple[str, str], tuple[tuple[str | int, ...], int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(PRACTICE_COLUMNS):
            raise _refuse(label, line, f"expected {len(PRACTICE_COLUMNS)} columns, got {len(row)}")
        cells = dict(zip(PRACTICE_COLUMNS, (cell.strip() for cell in row), strict=True))
        for column, value in cells.items():
            if not value:
                raise _refuse(label, line, f"{column} is empty")
        practice = Practice(
            code=cells["practice_code"],
            name=cells["practice_name"],
            sub_locality=cells["sub_locality"],
            locality=cells["locality"],
            ccg_code=cells["ccg_code"],
            ccg_name=cells["ccg_name"],
            sub_locality_population=_population(
                label, line, "sub_locality_population", cells["sub_locality_population"]
            ),
            locality_population=_population(
                label, line, "locality_population", cells["locality_population"]
            ),
        )
        if not _SLUG.fullmatch(practice.code):
            raise _refuse(label, line, f"practice code {practice.code!r} is not a lower-case slug")
        for seen, key, what in (
            (code_lines, practice.code, f"practice code {practice.code!r}"),
            (name_lines, practice.name.casefold(), f"practice name {practice.name!r}"),
        ):
            if key in seen:
                raise _refuse(label, line, f"{what} is used twice (first on line {seen[key]})")
            seen[key] = line
        facts: list[tuple[tuple[str, str], tuple[str | int, ...]]] = [
            (("CCG", practice.ccg_code), (practice.ccg_name,)),
            (("locality", practice.locality), (practice.ccg_code, practice.locality_population)),
            (
                ("sub-locality", practice.sub_locality),
                (practice.locality, practice.sub_locality_population),
            ),
        ]
        for parent, details in facts:
            known = parents.setdefault(parent, (details, line))
            if known[0] != details:
                raise _refuse(
                    label, line, f"{parent[0]} {parent[1]!r} disagrees with line {known[1]}"
                )
        practices.append(practice)
    if not practices:
        raise _refuse(label, 2, "the file lists no practices")
    return tuple(practices)


@cache
def load_practices() -> tuple[Practice, ...]:
    """The shipped LLR practices, in file order (CCG, locality, sub-locality)."""
    return read_practices(resource_path("reference", "llr_practices.csv"))


# --- service directory --------------------------------------------------------------------


def _json_entries(text: str, label: str) -> list[tuple[int, Any]]:
    """The elements of a top-level JSON array, each with the line it starts on."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(label, exc.lineno, f"the file is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, list):
        raise _refuse(label, 1, "the file must hold a JSON list of services")
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    entries: list[tuple[int, Any]] = []
    for _ in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        value, end = decoder.raw_decode(text, pos)
        entries.append((text.count("\n", 0, pos) + 1, value))
        pos = end
    return entries


def _service(label: str, line: int, entry: Any, localities: frozenset[str]) -> ServiceSeed:
    if not isinstance(entry, dict):
        raise _refuse(label, line, "each service must be a JSON object")
    missing = [field for field in SERVICE_FIELDS if field not in entry]
    extra = sorted(set(entry) - set(SERVICE_FIELDS))
    if missing:
        raise _refuse(label, line, "missing " + ", ".join(missing))
    if extra:
        raise _refuse(label, line, "unexpected field " + ", ".join(extra))
    for field in ("code", "kind", "name", "description", "how_to_refer"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise _refuse(label, line, f"{field} must be non-empty text")
    code, kind, locality, days = (
        entry["code"],
        entry["kind"],
        entry["locality"],
        entry["response_days"],
    )
    if not _SLUG.fullmatch(code):
        raise _refuse(label, line, f"service code {code!r} is not a lower-case slug")
    if kind not in SERVICE_KINDS:
        raise _refuse(label, line, f"unknown service kind {kind!r}")
    if locality is not None and locality not in localities:
        raise _refuse(label, line, f"unknown locality {locality!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RESPONSE_DAYS:
        raise _refuse(label, line, f"response_days must be a whole number 0-{MAX_RESPONSE_DAYS}")
    return ServiceSeed(
        code=code,
        kind=kind,
        name=entry["name"].strip(),
        locality=locality,
        description=entry["description"].strip(),
        how_to_refer=entry["how_to_refer"].strip(),
        response_days=days,
    )


def read_service_directory(path: Path, *, localities: Iterable[str]) -> tuple[ServiceSeed, ...]:
    """Read and check a services JSON list; a locality must be one of ``localities`` or null."""
    label = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"Reference file {label} cannot be read: {exc}.") from exc
    known = frozenset(localities)
    services: list[ServiceSeed] = []
    first_line: dict[str, int] = {}
    for line, entry in _json_entries(text, label):
        service = _service(label, line, entry, known)
        if service.code in first_line:
            raise _refuse(
                label,
                line,
                f"service code {service.code!r} is used twice (first on line "
                f"{first_line[service.code]})",
            )
        first_line[service.code] = line
        services.append(service)
    return tuple(services)


@cache
def load_service_directory() -> tuple[ServiceSeed, ...]:
    """The shipped seed directory of services, in file order."""
    localities = {practice.locality for practice in load_practices()}
    return read_service_directory(
        resource_path("reference", "services.json"), localities=localities
    )


# --- matching practice names typed by people ----------------------------------------------

_TOKEN_ALIASES: dict[str, tuple[str, ...]] = {
    "mc": ("medical", "centre"),
    "hc": ("health", "centre"),
    "mp": ("medical", "practice"),
    "med": ("medical",),
    "center": ("centre",),
    "street": ("st",),
    "saint": ("st",),
    "rd": ("road",),
    "doctor": ("dr",),
    "lboro": ("loughborough",),
}


def practice_key(text: str) -> str:
    """A practice name reduced for comparison: case, spacing, punctuation, "&"/"and",
    "Med Centre"/"MC", "HC", "MP", "St"/"Street", "Rd"/"Road" and a leading "The" do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("&", " and ").replace("@", " at ")
    text = re.sub(r"['’`]", "", text)
    tokens: list[str] = []
    for token in re.split(r"[^0-9a-z]+", text):
        if token:
            tokens.extend(_TOKEN_ALIASES.get(token, (token,)))
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join(tokens)


class PracticeMatchError(ValidationError):
    """No single practice fits the text; ``candidates`` are the suggestions or the choices."""

    def __init__(self, message: str, *, candidates: tuple[Practice, ...]) -> None:
        super().__init__(message, field="gp_practice")
        self.candidates = candidates


class PracticeMatcher:
    """Finds the practice meant by a name in an imported file or a search box."""

    def __init__(self, practices: Iterable[Practice]) -> None:
        self._by_code: dict[str, Practice] = {}
        self._by_name: dict[str, Practice] = {}
        self._by_short: dict[str, list[Practice]] = {}
        for practice in practices:
            key = practice_key(practice.name)
            clash = self._by_name.get(key) or self._by_code.get(practice.code.casefold())
            if clash is not None:
                raise StorageError(
                    f"Practices {clash.name!r} and {practice.name!r} cannot be told apart."
                )
            self._by_code[practice.code.casefold()] = practice
            self._by_name[key] = practice
            self._by_short.setdefault(practice_key(practice.short_name), []).append(practice)

    def match(self, text: str) -> Practice:
        """The practice ``text`` names (display name, code or short name), else ValidationError."""
        shown = " ".join(text.split())
        if not shown:
            raise PracticeMatchError("No GP practice given.", candidates=())
        practice = self._by_code.get(shown.casefold())
        key = practice_key(shown)
        practice = practice or self._by_name.get(key)
        if practice is not None:
            return practice
        choices = self._by_short.get(key, [])
        if len(choices) == 1:
            return choices[0]
        if choices:
            names = sorted(choice.name for choice in choices)
            raise PracticeMatchError(
                f"GP practice '{shown}' is ambiguous; choose one of: {', '.join(names)}.",
                candidates=tuple(sorted(choices, key=lambda choice: choice.name)),
            )
        # A bracketed note the reference data lacks, e.g. "Bushloe (Wigston)", is ignored only
        # when the rest is a full practice name on its own.
        stripped = _TRAILING_BRACKET.sub("", shown)
        if stripped != shown and (practice := self._by_name.get(practice_key(stripped))):
            return practice
        suggestions = self.suggest(shown)
        hint = ""
        if suggestions:
            names = [suggestion.name for suggestion in suggestions]
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
            hint = f"; did you mean {listed}?"
        raise PracticeMatchError(
            f"Unknown GP practice '{shown}'{hint or '.'}", candidates=suggestions
        )

    def suggest(self, text: str, *, limit: int = 3) -> tuple[Practice, ...]:
        """Up to ``limit`` practices whose names resemble ``text``, closest first."""
        key = practice_key(text)
        if not key:
            return ()
        # Names whose words appear whole inside the text or the other way round
        # ("Measham Medical Unit" -> Measham), then close spellings; each group closest first.
        padded = f" {key} "
        contained = [
            name_key
            for name_key, practice in self._by_name.items()
            if f" {practice_key(practice.short_name)} " in padded or padded in f" {name_key} "
        ]
        contained.sort(key=lambda name_key: -difflib.SequenceMatcher(None, key, name_key).ratio())
        close = difflib.get_close_matches(key, list(self._by_name), n=limit, cutoff=0.6)
        ordered = dict.fromkeys([*contained, *close])
        return tuple(self._by_name[name_key] for name_key in ordered)[:limit]


@cache
def default_practice_matcher() -> PracticeMatcher:
    """A matcher over the shipped practices."""
    return PracticeMatcher(load_practices())
