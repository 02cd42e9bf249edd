"""The MDT summary PDF: a cover for the meeting, one section per patient, then open actions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, PageBreak, Spacer

from app.reports.data import MdtAction, MdtPack, MdtPatient
from app.reports.layout import (
    OFFICIAL_SENSITIVE_PERSONAL,
    PageDecor,
    ProgressCallback,
    ProgressMark,
    ReportStyles,
    data_table,
    format_day,
    format_long_day,
    format_nhs_number,
    format_time,
    key_value_table,
    make_styles,
    para,
    render_story,
    section_bar,
    widths,
)

# Core team roles in the order the seeds list them; other roles follow, alphabetically.
CORE_ROLES = (
    "GP",
    "Community matron",
    "Senior nurse complex needs",
    "Adult social care",
    "Therapy lead",
    "Local area coordinator",
    "Care coordinator",
)


def render_mdt_pdf(
    pack: MdtPack,
    out: Path | BinaryIO,
    *,
    progress: ProgressCallback | None = None,
) -> int:
    """Render the MDT summary of ``pack`` to ``out`` (a path or a binary stream).

    Returns the page count. ``progress(done, total)`` is called as patient sections are laid
    out (total = patients + 1 for the open actions); raising from it abandons the document and
    leaves ``out`` untouched.
    """
    styles = make_styles()
    total = len(pack.patients) + 1
    if progress is not None:
        progress(0, total)
    story: list[Flowable] = _cover(pack, styles)
    for number, patient in enumerate(pack.patients, start=1):
        story.append(PageBreak() if number == 1 else Spacer(0, 10))
        story.append(KeepTogether(_patient_section(number, patient, pack.meeting_date, styles)))
        if progress is not None:
            story.append(ProgressMark(progress, number, total))
    story += _open_actions(pack, styles)
    if progress is not None:
        story.append(ProgressMark(progress, total, total))
    level = "Practice" if pack.level == "Practice" else "PCN"
    decor = PageDecor(
        title=f"{level} MDT summary — {format_day(pack.meeting_date)} — {pack.venue_or_practice}",
        classification=OFFICIAL_SENSITIVE_PERSONAL,
        printed_by=pack.printed_by,
        printed_at=pack.printed_at,
        data_as_of=pack.data_as_of,
        subject="MDT meeting summary",
    )
    return render_story(story, decor, out)


def _role_order(role: str) -> tuple[int, str]:
    lowered = [r.lower() for r in CORE_ROLES]
    key = role.strip().lower()
    return (lowered.index(key), "") if key in lowered else (len(CORE_ROLES), key)


def _cover(pack: MdtPack, styles: ReportStyles) -> list[Flowable]:
    level_text = "Practice MDT" if pack.level == "Practice" else "PCN MDT"
    carried = sum(1 for a in pack.open_actions if a.carried_forward)
    flow: list[Flowable] = [
        para("MDT meeting summary", styles.title),
        para(f"{level_text} — {format_long_day(pack.meeting_date)}", styles.subtitle),
        Spacer(0, 10),
        key_value_table(
            styles,
            [
                ("Meeting date", format_long_day(pack.meeting_date)),
                ("Level", level_text),
                ("Practice" if pack.level == "Practice" else "PCN", pack.venue_or_practice),
                ("Meeting reference", pack.meeting_id),
                ("Patients on the agenda", str(len(pack.patients))),
                (
                    "Open actions",
                    f"{len(pack.open_actions)} ({carried} carried forward)",
                ),
            ],
            widths(0.22, 0.28, 0.22, 0.28),
        ),
        para("Attendees", styles.h2),
    ]
    attendees = sorted(pack.attendees, key=lambda a: _role_order(a.role))
    if attendees:
        flow.append(
            data_table(
                styles,
                ["Role", "Name"],
                [[a.role, a.name] for a in attendees],
                widths(0.4, 0.6),
            )
        )
    else:
        flow.append(para("No attendees recorded.", styles.muted))
    flow.append(para("Patients on the agenda", styles.h2))
    if pack.patients:
        flow.append(
            data_table(
                styles,
                ["#", "Patient", "NHS number", "Level", "Reason on the agenda"],
                [
                    [
                        str(i),
                        p.name,
                        format_nhs_number(p.nhs_number),
                        p.level,
                        p.reason_on_agenda,
                    ]
                    for i, p in enumerate(pack.patients, start=1)
                ],
                widths(0.06, 0.25, 0.16, 0.12, 0.41),
            )
        )
    else:
        flow.append(para("No patients on the agenda.", styles.muted))
    return flow


def _patient_section(
    number: int, p: MdtPatient, meeting_date: date, styles: ReportStyles
) -> list[Flowable]:
    flow: list[Flowable] = [
        section_bar(styles, f"{number}. {p.name}", f"NHS {format_nhs_number(p.nhs_number)}"),
        Spacer(0, 4),
        key_value_table(
            styles,
            [
                ("Date of birth", f"{format_day(p.date_of_birth)} (age {p.age})"),
                ("Practice", p.practice),
                ("Level", p.level),
                ("ReSPECT", p.respect_status),
                ("Carers", "; ".join(p.carers) if p.carers else "None recorded"),
                ("On the agenda", p.reason_on_agenda),
            ],
            widths(0.15, 0.35, 0.15, 0.35),
        ),
        Spacer(0, 3),
        key_value_table(styles, [("Why on the list", p.cohort_explanation)], widths(0.15, 0.85)),
        para("Recent admissions", styles.h3),
    ]
    if p.recent_admissions:
        flow.append(
            data_table(
                styles,
                ["Admitted", "Discharged", "Hospital", "48-hour follow-up", "Hours to contact"],
                [
                    [
                        format_time(a.admitted, zone=False),
                        format_time(a.discharged, zone=False) if a.discharged else "In hospital",
                        a.hospital,
                        a.follow_up_status,
                        "—" if a.hours_to_contact is None else f"{a.hours_to_contact:.1f} h",
                    ]
                    for a in p.recent_admissions
                ],
                widths(0.2, 0.2, 0.26, 0.17, 0.17),
                highlight_rows=[
                    i for i, a in enumerate(p.recent_admissions) if a.follow_up_status == "Missed"
                ],
            )
        )
    else:
        flow.append(para("No recent admissions.", styles.muted))
    flow.append(para("Needs", styles.h3))
    if p.needs:
        flow.append(
            data_table(
                styles,
                ["Domain", "Need", "Notes"],
                [[n.domain, n.level, n.notes] for n in p.needs],
                widths(0.22, 0.13, 0.65),
            )
        )
    else:
        flow.append(para("No needs assessment recorded.", styles.muted))
    flow.append(para("Care and support plan", styles.h3))
    flow.append(para(p.plan_summary or "No plan recorded.", styles.body))
    flow.append(para("Open referrals", styles.h3))
    if p.open_referrals:
        flow.append(
            data_table(
                styles,
                ["Service", "Status", "Since"],
                [[r.service, r.status, format_day(r.since)] for r in p.open_referrals],
                widths(0.5, 0.3, 0.2),
            )
        )
    else:
        flow.append(para("No open referrals.", styles.muted))
    flow.append(para("Discussion (SBAR)", styles.h3))
    if p.discussion is not None:
        s = p.discussion
        flow.append(
            key_value_table(
                styles,
                [
                    ("Situation", s.situation),
                    ("Background", s.background),
                    ("Assessment", s.assessment),
                    ("Recommendation", s.recommendation),
                ],
                widths(0.18, 0.82),
            )
        )
    else:
        flow.append(para("Not discussed yet.", styles.muted))
    flow.append(para("Actions", styles.h3))
    if p.actions:
        flow.append(_actions_table(p.actions, meeting_date, styles, with_patient=False))
    else:
        flow.append(para("No actions.", styles.muted))
    return flow


def _due_text(action: MdtAction, meeting_date: date) -> str:
    if action.due is None:
        return "No date"
    overdue = action.due < meeting_date and action.status.lower() not in ("done", "completed")
    return format_day(action.due) + (" (overdue)" if overdue else "")


def _actions_table(
    actions: tuple[MdtAction, ...], meeting_date: date, styles: ReportStyles, *, with_patient: bool
) -> Flowable:
    if with_patient:
        header = ["Patient", "Action", "Owner", "Due", "Status", "Carried forward"]
        col = widths(0.2, 0.32, 0.16, 0.12, 0.08, 0.12)
    else:
        header = ["Action", "Owner", "Due", "Status", "Carried forward"]
        col = widths(0.46, 0.18, 0.14, 0.1, 0.12)
    rows: list[list[str]] = []
    for a in actions:
        row = [
            a.description,
            a.owner,
            _due_text(a, meeting_date),
            a.status,
            "Carried forward" if a.carried_forward else "New",
        ]
        if with_patient:
            row.insert(0, a.patient_name or "Team action")
        rows.append(row)
    return data_table(
        styles,
        header,
        rows,
        col,
        highlight_rows=[i for i, a in enumerate(actions) if a.carried_forward],
    )


def _open_actions(pack: MdtPack, styles: ReportStyles) -> list[Flowable]:
    flow: list[Flowable] = [
        CondPageBreak(160),
        Spacer(0, 8),
        section_bar(styles, "Open actions", f"{len(pack.open_actions)} open"),
        Spacer(0, 4),
    ]
    if pack.open_actions:
        flow.append(
            para(
                "Actions still open after this meeting. Carried-forward actions were agreed at an"
                " earlier meeting and are shaded.",
                styles.small,
            )
        )
        flow.append(Spacer(0, 4))
        flow.append(_actions_table(pack.open_actions, pack.meeting_date, styles, with_patient=True))
    else:
        flow.append(para("No open actions.", styles.muted))
    return flow
