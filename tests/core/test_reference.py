"""Shipped reference data (LLR practices, seed service directory) and the practice matcher."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import StorageError, ValidationError
from app.core.reference import (
    PRACTICE_COLUMNS,
    SERVICE_FIELDS,
    SERVICE_KIND_LABELS,
    SERVICE_KINDS,
    Practice,
    PracticeMatcher,
    default_practice_matcher,
    load_practices,
    load_service_directory,
    read_practices,
    read_service_directory,
)
from app.core.resources import resource_path

PRACTICES = load_practices()
SERVICES = load_service_directory()
MATCHER = default_practice_matcher()
BY_NAME = {practice.name: practice for practice in PRACTICES}

CCG_LOCALITIES = {
    ("WLCCG", "West Leicestershire"): {
        "North West Leicestershire",
        "Hinckley & Bosworth",
        "North Charnwood",
        "South Charnwood",
    },
    ("ELRCCG", "East Leicestershire & Rutland"): {
        "Melton & Rutland",
        "Oadby & Wigston",
        "Blaby & Lutterworth",
        "Market Harborough",
    },
    ("LCCCG", "Leicester City"): {"North West", "South", "Central", "North East"},
}
COUNTY_LOCALITIES = (
    CCG_LOCALITIES[("WLCCG", "West Leicestershire")]
    | CCG_LOCALITIES[("ELRCCG", "East Leicestershire & Rutland")]
)
# Localities whose published list size is not the sum of its sub-localities' sizes. The seed's
# figures all add up, so this is empty; a new edition that does not must be listed here.
POPULATION_MISMATCHES: frozenset[str] = frozenset()


def _localities() -> dict[str, set[tuple[str, int]]]:
    subs: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for practice in PRACTICES:
        subs[practice.locality].add((practice.sub_locality, practice.sub_locality_population))
    return subs


# --- practices: structure ------------------------------------------------------------------


def test_three_ccgs_each_with_its_four_localities() -> None:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for practice in PRACTICES:
        found[(practice.ccg_code, practice.ccg_name)].add(practice.locality)
    assert found == CCG_LOCALITIES


def test_sub_locality_and_practice_counts_match_the_seed() -> None:
    subs = _localities()
    assert len(subs) == 12
    assert sum(len(names) for names in subs.values()) == 28
    assert len(PRACTICES) == 134
    assert {name for name, _ in subs["Blaby & Lutterworth"]} == {
        "South Blaby & Lutterworth",
        "North Blaby",
    }
    assert {p.name for p in PRACTICES if p.sub_locality == "Braunstone HSCC"} == {
        "Hockley Farm",
        "Meridale",
    }


def test_every_practice_has_a_locality_and_sub_locality_in_one_place_only() -> None:
    parent: dict[str, str] = {}
    for practice in PRACTICES:
        assert practice.locality and practice.sub_locality and practice.name
        assert parent.setdefault(practice.sub_locality, practice.locality) == practice.locality


@pytest.mark.parametrize("locality", sorted({p.locality for p in PRACTICES}))
def test_locality_population_is_the_sum_of_its_sub_localities(locality: str) -> None:
    subs = _localities()[locality]
    (declared,) = {p.locality_population for p in PRACTICES if p.locality == locality}
    adds_up = declared == sum(population for _, population in subs)
    assert adds_up is (locality not in POPULATION_MISMATCHES)


def test_published_list_sizes_are_kept_as_given() -> None:
    heath_lane = BY_NAME["Heath Lane"]
    assert (heath_lane.sub_locality, heath_lane.sub_locality_population) == ("Farah", 35_688)
    assert (heath_lane.locality, heath_lane.locality_population) == ("Hinckley & Bosworth", 114_696)


def test_typos_and_ocr_damage_are_fixed() -> None:
    names = set(BY_NAME)
    for fixed in (
        "Heath Lane",
        "Glenfield",
        "Loughborough University",
        "Dr Kapur, Melbourne Road",
        "Pasley Road Health Centre (Dr Khong)",
        "Brandon Street Surgery",
        "Ashby Medical Centre",
        "East Leicester Medical Practice",
    ):
        assert fixed in names
    joined = "\n".join(names)
    for damaged in ("Health Lane", "Glentfield", "L'boro", "Melbourn Rd", "pooled list"):
        assert damaged not in joined
    for name in names:
        assert "\n" not in name and name == name.strip() and not name.startswith("(")
        assert not re.search(r"\b(MC|HC|MP|Med|St|Rd)$", name), name


def test_sub_localities_are_title_case() -> None:
    for practice in PRACTICES:
        for word in practice.sub_locality.split():
            assert word == "&" or word == "HSCC" or word == word.capitalize(), practice.sub_locality


def test_display_names_are_unique_and_duplicates_carry_their_place() -> None:
    assert len(BY_NAME) == len(PRACTICES)
    forest = sorted(p.name for p in PRACTICES if p.short_name == "Forest House")
    assert forest == ["Forest House (North Blaby)", "Forest House (North Charnwood)"]
    assert BY_NAME["Forest House (North Blaby)"].sub_locality == "North Blaby"
    assert BY_NAME["Forest House (North Charnwood)"].locality == "North Charnwood"


def test_practice_codes_are_stable_slugs() -> None:
    assert BY_NAME["Bridge Street"].code == "wl-ennis-bridge-street"
    assert BY_NAME["Forest House (North Blaby)"].code == "elr-north-blaby-forest-house"
    prefix = {"WLCCG": "wl-", "ELRCCG": "elr-", "LCCCG": "lc-"}
    codes = [p.code for p in PRACTICES]
    assert len(set(codes)) == len(codes)
    for practice in PRACTICES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", practice.code)
        assert practice.code.startswith(prefix[practice.ccg_code])


def test_loaders_are_cached() -> None:
    assert load_practices() is PRACTICES
    assert load_service_directory() is SERVICES


# --- practices: a damaged file is refused with its line -------------------------------------

HEADER = ",".join(PRACTICE_COLUMNS)
ROW = "WLCCG,West Leicestershire,North Charnwood,83666,Ennis,50330,{code},{name}"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_practice_code_names_file_and_line(tmp_path: Path) -> None:
    rows = [HEADER, ROW.format(code="a", name="A"), ROW.format(code="a", name="B")]
    path = _write(tmp_path, "practices.csv", "\n".join(rows) + "\n")
    with pytest.raises(StorageError, match=r"practices\.csv line 3: .*'a'.*first on line 2"):
        read_practices(path)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (ROW.format(code="b", name="B").replace("50330", "lots"), "not a positive whole number"),
        (ROW.format(code="b", name="B").replace("50330", "50331"), "disagrees with line 2"),
        (ROW.format(code="B b", name="B"), "not a lower-case slug"),
        (ROW.format(code="b", name=""), "practice_name is empty"),
        (ROW.format(code="b", name="A"), "practice name 'A' is used twice"),
    ],
)
def test_bad_practice_rows_are_refused(tmp_path: Path, row: str, problem: str) -> None:
    path = _write(tmp_path, "p.csv", f"{HEADER}\n{ROW.format(code='a', name='A')}\n{row}\n")
    with pytest.raises(StorageError, match=rf"p\.csv line 3: .*{re.escape(problem)}"):
        read_practices(path)


def test_wrong_practice_header_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.csv", "code,name\na,A\n")
    with pytest.raises(StorageError, match=r"p\.csv line 1: the header must be"):
        read_practices(path)


# --- service directory ---------------------------------------------------------------------


def test_service_kinds_follow_the_report_contract() -> None:
    assert SERVICE_KINDS == (
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
    assert list(SERVICE_KIND_LABELS) == list(SERVICE_KINDS)
    assert SERVICE_KIND_LABELS["LAC"] == "Local Area Coordinator"


def test_every_service_kind_is_seeded() -> None:
    assert {service.kind for service in SERVICES} == set(SERVICE_KINDS)


def test_a_local_area_coordinator_service_for_each_county_locality() -> None:
    lac = [service for service in SERVICES if service.kind == "LAC"]
    assert sorted(str(service.locality) for service in lac) == sorted(COUNTY_LOCALITIES)


def test_adult_social_care_for_each_council() -> None:
    names = {s.name for s in SERVICES if s.kind == "ADULT_SOCIAL_CARE"}
    for council in ("Leicestershire County Council", "Leicester City Council", "Rutland County"):
        assert any(council in name for name in names), council


def test_services_are_well_formed_and_carry_no_contact_details() -> None:
    localities = {p.locality for p in PRACTICES}
    codes = [service.code for service in SERVICES]
    assert len(set(codes)) == len(codes)
    contact = re.compile(r"@|https?:|www\.|\.(uk|com|org)\b|\d{4,}|\d{3,}[ -]\d{3,}")
    for service in SERVICES:
        assert service.locality is None or service.locality in localities
        assert 0 <= service.response_days <= 10
        assert service.description.endswith(".") and ". " not in service.description
        for text in (service.name, service.description, service.how_to_refer):
            assert not contact.search(text), text
    raw = json.loads(resource_path("reference", "services.json").read_text(encoding="utf-8"))
    assert all(set(entry) == set(SERVICE_FIELDS) for entry in raw)


def _service(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "code": "x",
        "kind": "LAC",
        "name": "X",
        "locality": None,
        "description": "Does x.",
        "how_to_refer": "Ask.",
        "response_days": 1,
    }
    entry.update(changes)
    return entry


def _directory(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    return _write(tmp_path, "services.json", json.dumps(entries, indent=2))


def test_unknown_service_kind_names_file_and_line(tmp_path: Path) -> None:
    path = _directory(tmp_path, [_service(), _service(code="y", kind="PLUMBING")])
    # Second object of an indent=2 list: "[", 9 lines of the first, then its "{" on line 11.
    with pytest.raises(StorageError, match=r"services\.json line 11: unknown service kind"):
        read_service_directory(path, localities=())


def test_duplicate_service_code_names_file_and_line(tmp_path: Path) -> None:
    path = _directory(tmp_path, [_service(), _service()])
    with pytest.raises(StorageError, match=r"services\.json line 11: .*'x'.*first on line 2"):
        read_service_directory(path, localities=())


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"phone": "0"}, "unexpected field phone"),
        ({"locality": "Atlantis"}, "unknown locality 'Atlantis'"),
        ({"response_days": True}, "response_days must be a whole number"),
        ({"response_days": -1}, "response_days must be a whole number"),
        ({"name": " "}, "name must be non-empty text"),
        ({"code": "Not A Slug"}, "service code 'Not A Slug' is not a lower-case slug"),
    ],
)
def test_bad_service_entries_are_refused(
    tmp_path: Path, changes: dict[str, object], problem: str
) -> None:
    path = _directory(tmp_path, [_service(**changes)])
    with pytest.raises(StorageError, match=rf"line 2: {re.escape(problem)}"):
        read_service_directory(path, localities=("Rutland",))


def test_broken_json_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "services.json", '[\n  {"code": "x",\n  oops}\n]\n')
    with pytest.raises(StorageError, match=r"services\.json line 3: the file is not valid JSON"):
        read_service_directory(path, localities=())


# --- resources folder ----------------------------------------------------------------------


def test_resources_are_found_in_a_source_checkout() -> None:
    path = resource_path("reference", "llr_practices.csv")
    assert path.is_file()
    assert path.parent.parent.name == "resources"


def test_resources_are_found_in_a_frozen_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "resources" / "reference" / "services.json"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("[]", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("reference", "services.json") == shipped
    with pytest.raises(StorageError, match=r"Resource 'reference/llr_practices\.csv' is missing"):
        resource_path("reference", "llr_practices.csv")


def test_missing_resources_folder_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    with pytest.raises(StorageError, match="resources folder is missing"):
        resource_path("reference", "services.json")


@pytest.mark.parametrize("part", ["..", "/etc", "a/../../b", ""])
def test_resource_path_stays_inside_resources(part: str) -> None:
    with pytest.raises(ValueError):
        resource_path("reference", part)


# --- practice matcher ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Heath Lane", "Heath Lane"),
        ("  heath   LANE ", "Heath Lane"),
        ("wl-ennis-bridge-street", "Bridge Street"),
        ("WL-ENNIS-BRIDGE-STREET", "Bridge Street"),
        ("Ashby Med Centre", "Ashby Medical Centre"),
        ("ashby mc", "Ashby Medical Centre"),
        ("Victoria Park HC", "Victoria Park Health Centre"),
        ("Johnson MP", "Johnson Medical Practice"),
        ("Barwell and Hollycroft", "Barwell & Hollycroft"),
        ("Maples", "The Maples"),
        ("the willows", "The Willows"),
        ("Canon St", "Canon Street"),
        ("Walnut St MC", "Walnut Street Medical Centre"),
        ("Surgery @ Aylestone", "Surgery at Aylestone"),
        ("L'boro University", "Loughborough University"),
        ("Dr Kapur Melbourne Rd", "Dr Kapur, Melbourne Road"),
        ("St Elizabeths", "St Elizabeth's"),
        ("Hepplewhite", "Hepplewhite (Whitwick)"),
        ("Forest House (North Blaby)", "Forest House (North Blaby)"),
        ("forest house - north charnwood", "Forest House (North Charnwood)"),
        ("Brandon St Surgery (pooled list)", "Brandon Street Surgery"),
        ("Pasley Road HC (Dr Khong)", "Pasley Road Health Centre (Dr Khong)"),
    ],
)
def test_matcher_accepts_the_ways_people_write_practice_names(typed: str, expected: str) -> None:
    assert MATCHER.match(typed).name == expected


def test_every_practice_is_found_by_name_code_and_unique_short_name() -> None:
    shorts: dict[str, int] = defaultdict(int)
    for practice in PRACTICES:
        shorts[practice.short_name.casefold()] += 1
    for practice in PRACTICES:
        assert MATCHER.match(practice.name) is practice
        assert MATCHER.match(practice.code) is practice
        if shorts[practice.short_name.casefold()] == 1:
            assert MATCHER.match(practice.short_name) is practice


def test_unknown_practice_is_refused_with_close_suggestions() -> None:
    with pytest.raises(ValidationError) as caught:
        MATCHER.match("Dr Kapur, Melbourn Rd")
    assert caught.value.field == "gp_practice"
    message = str(caught.value)
    assert message.startswith("Unknown GP practice 'Dr Kapur, Melbourn Rd'")
    assert "Dr Kapur, Melbourne Road" in message


def test_unknown_practice_suggests_a_name_it_contains() -> None:
    with pytest.raises(ValidationError, match=r"did you mean Measham\b"):
        MATCHER.match("Measham Medical Unit")


def test_a_practice_with_nothing_like_it_gets_no_suggestion() -> None:
    with pytest.raises(ValidationError, match=r"^Unknown GP practice 'Zzyzx Qwv'\.$"):
        MATCHER.match("Zzyzx Qwv")


def test_suggestions_are_at_most_three() -> None:
    assert 0 < len(MATCHER.suggest("Surgery")) <= 3


@pytest.mark.parametrize(
    ("typed", "choices"),
    [
        ("Forest House", ["Forest House (North Blaby)", "Forest House (North Charnwood)"]),
        (
            "Westcotes HC",
            ["Westcotes Health Centre (Dr Hazeldine)", "Westcotes Health Centre (Dr Lawrence)"],
        ),
    ],
)
def test_ambiguous_short_name_lists_the_choices(typed: str, choices: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        MATCHER.match(typed)
    assert caught.value.field == "gp_practice"
    assert "ambiguous" in str(caught.value)
    for choice in choices:
        assert choice in str(caught.value)


def test_a_bracketed_place_is_not_dropped_to_guess_a_practice() -> None:
    # "Hepplewhite" alone is Hepplewhite (Whitwick), but a different place must not match it.
    with pytest.raises(ValidationError, match="Unknown GP practice 'Hepplewhite \\(Ibstock\\)'"):
        MATCHER.match("Hepplewhite (Ibstock)")


def test_empty_practice_is_refused() -> None:
    with pytest.raises(ValidationError, match="No GP practice given"):
        MATCHER.match("   ")


def test_matcher_refuses_practices_it_could_not_tell_apart() -> None:
    twin = Practice("a", "Ashby MC", "Weir", "NW", "WLCCG", "West", 1, 1)
    other = Practice("b", "ashby medical centre", "Weir", "NW", "WLCCG", "West", 1, 1)
    with pytest.raises(StorageError, match="cannot be told apart"):
        PracticeMatcher([twin, other])


_SWAPS = (("Medical Centre", "MC"), ("Health Centre", "HC"), (" & ", " and "), ("Street", "St"))


@st.composite
def _retyped(draw: st.DrawFn) -> tuple[Practice, str]:
    practice = draw(st.sampled_from(PRACTICES))
    text = practice.name
    for long, short in _SWAPS:
        if long in text and draw(st.booleans()):
            text = text.replace(long, short)
    chars = []
    for char in text:
        if char == " ":
            chars.append(" " * draw(st.integers(1, 3)))
        else:
            chars.append(char.upper() if draw(st.booleans()) else char.lower())
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return practice, pad + "".join(chars) + pad


@given(_retyped())
def test_case_spacing_and_abbreviations_never_change_the_match(
    case: tuple[Practice, str],
) -> None:
    practice, typed = case
    assert MATCHER.match(typed) is practice


@given(st.text(max_size=40))
def test_any_text_gives_a_practice_or_a_validation_error(typed: str) -> None:
    try:
        assert isinstance(MATCHER.match(typed), Practice)
    except ValidationError as exc:
        assert exc.field == "gp_practice"
