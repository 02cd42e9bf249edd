"""The MDT summary PDF, read back as text the way a reader of the printout would see it."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.reports.data import MdtPack, NeedLine, Sbar
from app.reports.mdt_pdf import render_mdt_pdf
from tests.reports.factories import (
    make_pack,
    make_patient,
    nhs_number,
    page_texts,
    patient_name,
    render_bytes,
)


def _render(pack: MdtPack) -> tuple[bytes, int]:
    return render_bytes(render_mdt_pdf, pack)


def _with_note(pack: MdtPack, note: str) -> MdtPack:
    """The pack with ``note`` as the first patient's mobility notes and SBAR background."""
    first = pack.patients[0]
    assert first.discussion is not None
    first = replace(
        first,
        needs=(NeedLine("Mobility & falls", "High", note), *first.needs[1:]),
        discussion=replace(first.discussion, background=note),
    )
    return replace(pack, patients=(first, *pack.patients[1:]))


def test_every_page_carries_marking_page_numbers_and_who_printed_it() -> None:
    pdf, pages = _render(make_pack(4))
    texts = page_texts(pdf)
    assert len(texts) == pages >= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
        assert text.count("OFFICIAL-SENSITIVE: PERSONAL") == 2  # top and bottom
        assert "Printed by Sam Coordinator at 23/11/2026 09:30 GMT" in text
        assert "Data as of 23/11/2026 07:00 GMT" in text


def test_times_are_printed_in_london_time_in_summer() -> None:
    pack = make_pack(
        1,
        printed_at=datetime(2026, 7, 1, 8, 15, tzinfo=UTC),
        data_as_of=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
    )
    text = page_texts(_render(pack)[0])[0]
    assert "Printed by Sam Coordinator at 01/07/2026 09:15 BST" in text
    assert "Data as of 01/07/2026 00:30 BST" in text


def test_cover_lists_meeting_attendees_by_role_and_the_agenda() -> None:
    pack = make_pack(3)
    cover = page_texts(_render(pack)[0])[0]
    assert "MDT meeting summary" in cover
    assert "Monday 23 November 2026" in cover
    assert "Practice MDT" in cover
    assert "Fictional Road Surgery" in cover
    # Core-team order: GP first, the care coordinator last, whatever the input order.
    assert cover.index("Dr Alex Example") < cover.index("Jo Matron") < cover.index("Chris Lac")
    assert cover.index("Chris Lac") < cover.index("Sam Coordinator", cover.index("Attendees"))
    for p in pack.patients:
        assert p.name in cover
        assert p.reason_on_agenda in cover
    assert "Patients on the agenda 3" in cover or "Patients on the agenda\n3" in cover


def test_nhs_numbers_are_printed_3_3_4_and_never_as_ten_running_digits() -> None:
    pdf, _ = _render(make_pack(5))
    text = "\n".join(page_texts(pdf))
    for i in range(5):
        digits = nhs_number(i)
        assert f"{digits[:3]} {digits[3:6]} {digits[6:]}" in text
        assert digits not in text


def test_each_patient_section_shows_the_discussion_and_actions() -> None:
    pack = make_pack(2)
    text = "\n".join(page_texts(_render(pack)[0]))
    for label in ("Situation", "Background", "Assessment", "Recommendation"):
        assert label in text
    assert "Discharged after a fall; anxious about going out." in text
    assert "Arrange therapy home visit" in text
    assert "Therapy lead" in text
    assert "30/11/2026" in text
    assert "Leicester Royal Infirmary" in text


def test_a_patient_not_yet_discussed_says_so() -> None:
    pack = replace(make_pack(1), patients=(make_patient(0, discussed=False),))
    text = "\n".join(page_texts(_render(pack)[0]))
    assert "Not discussed yet." in text


def test_open_actions_mark_the_carried_forward_ones() -> None:
    text = " ".join(" ".join(page_texts(_render(make_pack(2))[0])).split())
    tail = text[text.rindex("Open actions") :]
    assert (
        "Team action Chase community nursing about the shared caseload list Care coordinator"
        " 09/11/2026 (overdue) open Carried forward" in tail
    )
    assert f"{patient_name(0)} Arrange therapy home visit Therapy lead 30/11/2026 open New" in tail


def test_page_counts_grow_with_the_number_of_patients() -> None:
    counts = [_render(make_pack(n))[1] for n in (1, 30, 200)]
    assert counts[0] <= 3
    assert counts[0] < counts[1] < counts[2]
    assert counts[2] >= 100  # 200 real sections cannot fit on fewer pages


def test_reported_page_count_matches_the_file() -> None:
    pdf, pages = _render(make_pack(6))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == pages


def test_a_5000_character_note_wraps_onto_more_pages() -> None:
    words = " ".join(f"word{i:04d}" for i in range(560))
    note = f"Begin-of-note {words} end-of-note"
    assert len(note) > 5000
    pack = make_pack(2)
    _, short_pages = _render(pack)
    long_pdf, long_pages = _render(_with_note(pack, note))
    assert long_pages > short_pages
    text = "\n".join(page_texts(long_pdf))
    assert "Begin-of-note" in text
    assert "word0280" in text
    assert "end-of-note" in text


def test_a_note_with_no_spaces_and_markup_characters_is_printed_literally() -> None:
    unbroken = "x" * 5000
    markup = "<b>not bold</b> & <unclosed and a > b"
    pack = _with_note(make_pack(1), unbroken)
    pack = replace(
        pack, patients=(replace(pack.patients[0], plan_summary=markup, name="Zoë O'Brien"),)
    )
    pdf, pages = _render(pack)
    text = "\n".join(page_texts(pdf))
    assert pages >= 3
    assert "<b>not bold</b> & <unclosed and a > b" in text
    assert "Zoë O'Brien" in text


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    pack = make_pack(3)
    first, _ = _render(pack)
    second, _ = _render(make_pack(3))
    assert first == second
    render_mdt_pdf(pack, tmp_path / "pack.pdf")
    assert (tmp_path / "pack.pdf").read_bytes() == first


def test_document_dates_come_from_the_pack_not_the_clock() -> None:
    pdf, _ = _render(make_pack(1))
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None
    assert meta.creation_date == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert meta.title is not None and "MDT summary" in meta.title
    later, _ = _render(make_pack(1, printed_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC)))
    assert later != pdf


def test_progress_reports_every_patient_then_the_end() -> None:
    calls: list[tuple[int, int]] = []
    render_bytes(render_mdt_pdf, make_pack(4), progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 5)
    assert calls[-1] == (5, 5)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert {d for d, _ in calls} == {0, 1, 2, 3, 4, 5}


def test_a_cancelled_render_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "mdt.pdf"
    target.write_bytes(b"previous pack")

    def cancel(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt  # what a cancel button's worker might raise

    with pytest.raises(KeyboardInterrupt):
        render_mdt_pdf(make_pack(4), target, progress=cancel)
    assert target.read_bytes() == b"previous pack"
    assert [p.name for p in tmp_path.iterdir()] == ["mdt.pdf"]


def test_writing_to_a_path_replaces_the_file_in_one_step(tmp_path: Path) -> None:
    target = tmp_path / "mdt.pdf"
    target.write_bytes(b"old")
    pages = render_mdt_pdf(make_pack(1), target)
    assert target.read_bytes().startswith(b"%PDF-")
    assert len(PdfReader(target).pages) == pages
    assert [p.name for p in tmp_path.iterdir()] == ["mdt.pdf"]


def test_a_missing_folder_is_a_clear_refusal(tmp_path: Path) -> None:
    from app.core.errors import StorageError

    with pytest.raises(StorageError, match="Cannot write the PDF"):
        render_mdt_pdf(make_pack(1), tmp_path / "no-such-folder" / "mdt.pdf")


def test_an_empty_meeting_still_prints() -> None:
    pack = replace(make_pack(0), attendees=(), open_actions=())
    pdf, pages = _render(pack)
    text = "\n".join(page_texts(pdf))
    assert pages == 1
    assert "No patients on the agenda." in text
    assert "No open actions." in text


def test_pcn_level_meeting_is_labelled_as_such() -> None:
    pack = make_pack(1, level="PCN", venue_or_practice="Fictional Valley PCN")
    cover = page_texts(_render(pack)[0])[0]
    assert "PCN MDT" in cover
    assert "Fictional Valley PCN" in cover


def test_a_discussion_with_empty_fields_prints() -> None:
    patient = replace(make_patient(0), discussion=Sbar("", "", "", ""), actions=())
    pack = replace(make_pack(1), patients=(patient,))
    text = "\n".join(page_texts(_render(pack)[0]))
    assert "Recommendation" in text
    assert "No actions." in text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(min_size=1, max_size=80),
    note=st.text(max_size=600),
    reason=st.text(max_size=200),
)
def test_any_user_text_prints_without_breaking_the_layout(
    name: str, note: str, reason: str
) -> None:
    pack = _with_note(make_pack(1), note)
    patient = replace(pack.patients[0], name=name, reason_on_agenda=reason, plan_summary=note)
    pdf, pages = _render(replace(pack, patients=(patient,), venue_or_practice=reason))
    assert pages >= 2
    assert f"Page 1 of {pages}" in page_texts(pdf)[0]


# Names Helvetica (WinAnsi) cannot print: they are set in the embedded DejaVu Sans.
UNICODE_NAMES = (
    "Łukasz Wójcik",
    "Ştefan Ţurcanu",
    "Jiří Dvořák",
    "Zoë Ó'Brien-Ćirić",
    "Αλέξης Νικολάου",
    "Дмитрий Иванов",
)


def _font_names(pdf: bytes) -> set[str]:
    """The /BaseFont names of every font the pages use (an embedded subset is 'ABCDEF+Name')."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"].get_object()
        fonts: Any = resources.get("/Font")
        if fonts is not None:
            names |= {str(ref.get_object()["/BaseFont"]) for ref in fonts.get_object().values()}
    return names


def test_names_outside_western_european_print_exactly_everywhere() -> None:
    base = make_pack(len(UNICODE_NAMES))
    patients = tuple(
        replace(p, name=name, plan_summary=f"Plan agreed with {name} & family <today>.")
        for p, name in zip(base.patients, UNICODE_NAMES, strict=True)
    )
    pack = replace(
        base,
        patients=patients,
        printed_by="Łukasz Wójcik",
        venue_or_practice="Świętokrzyska Surgery",
        open_actions=tuple(replace(a, patient_name=None) for a in base.open_actions),
    )
    pdf, _ = _render(pack)
    texts = page_texts(pdf)
    cover = texts[0]
    for name in UNICODE_NAMES:
        assert name in cover  # the agenda table
    text = "\n".join(texts)
    for number, name in enumerate(UNICODE_NAMES, start=1):
        assert f"{number}. {name}" in text  # the bold bar over the patient's section
        assert f"Plan agreed with {name} & family <today>." in text
    for page in texts:  # the page header and footer, drawn on the canvas
        assert "Printed by Łukasz Wójcik at 23/11/2026 09:30 GMT" in page
        assert "Świętokrzyska Surgery" in page
    fonts = _font_names(pdf)
    assert any(f.endswith("+DejaVuSans") for f in fonts)
    assert any(f.endswith("+DejaVuSans-Bold") for f in fonts)
    assert b"/FontFile2" in pdf
    assert _render(pack)[0] == pdf  # still deterministic


def test_a_latin_1_pack_embeds_no_font() -> None:
    _render(replace(make_pack(1), printed_by="Łukasz"))  # the fallback is registered by now
    pdf, _ = _render(replace(make_pack(3), printed_by="Zoë Ó'Brien", venue_or_practice="Café"))
    assert "Printed by Zoë Ó'Brien at" in page_texts(pdf)[0]
    assert b"/FontFile2" not in pdf
    assert _font_names(pdf) and all(f.startswith("/Helvetica") for f in _font_names(pdf))


def test_a_note_with_characters_no_font_has_prints_question_marks() -> None:
    pack = _with_note(make_pack(1), "Likes 中文 radio 😀 and Łódź ♥")
    text = "\n".join(page_texts(_render(pack)[0]))
    assert "Likes ?? radio ? and Łódź ♥" in text
