"""What the measured lines are compared with in the same run (DESIGN.md §6, third column):
the caseload query written by hand against the raw SQLCipher connection, and the MDT summary's
content laid out with plain reportlab. The bare-window floor of the start-up line is in
:mod:`bench.probe`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.db import encryption
from app.db.encryption import DatabaseKey
from app.reports.data import MdtPack

CONTACT_OUTCOMES = ("contacted_patient", "contacted_carer")


# --- the caseload query in raw SQL ----------------------------------------------------------


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(text: str) -> tuple[str, list[str]]:
    cleaned = text.replace(",", " ").strip()
    if not cleaned:
        return "1", []
    compact = cleaned.replace(" ", "").replace("-", "")
    if compact.isdigit():
        return "p.nhs_number LIKE ? ESCAPE '\\'", [_like(compact)]
    words = cleaned.split()
    clause = " AND ".join(
        "(p.family_name LIKE ? ESCAPE '\\' OR p.given_name LIKE ? ESCAPE '\\')" for _ in words
    )
    return clause, [v for w in words for v in (_like(w), _like(w))]


class RawCaseload:
    """The caseload's first page and total for a typed filter, as hand-written SQL on a raw
    SQLCipher connection keyed like the app's (no ORM, no SQLAlchemy)."""

    def __init__(self, db_path: Path, key: DatabaseKey | None, page_size: int) -> None:
        self.conn = encryption.connect(db_path, key)
        self.page_size = page_size

    def close(self) -> None:
        self.conn.close()

    def query(self, text: str) -> tuple[int, list[Any]]:
        where, params = _where(text)
        cur = self.conn.cursor()
        total = cur.execute(f"SELECT count(*) FROM patients p WHERE {where}", params).fetchone()[0]
        rows = cur.execute(
            "SELECT p.id, p.family_name, p.given_name, p.nhs_number, p.date_of_birth, p.level,"
            " p.risk_score, p.ltc_count, p.frailty_band, p.efi_score, p.predicted_cost_ratio,"
            " p.flag_for_mdt, pr.name, c.name"
            " FROM patients p"
            " LEFT JOIN practices pr ON pr.code = p.practice_code"
            " LEFT JOIN coordinators c ON c.id = p.coordinator_id"
            f" WHERE {where} ORDER BY p.family_name, p.given_name, p.id LIMIT ?",
            [*params, self.page_size],
        ).fetchall()
        ids = [r[0] for r in rows]
        if ids:
            marks = ",".join("?" * len(ids))
            cur.execute(
                "SELECT patient_id, title, due_at FROM tasks"
                f" WHERE status = 'open' AND patient_id IN ({marks}) ORDER BY due_at, id",
                ids,
            ).fetchall()
            cur.execute(
                "SELECT patient_id, max(called_at) FROM call_attempts"
                f" WHERE outcome IN (?, ?) AND patient_id IN ({marks}) GROUP BY patient_id",
                [*CONTACT_OUTCOMES, *ids],
            ).fetchall()
        cur.close()
        return total, rows


# --- the MDT summary with plain reportlab ---------------------------------------------------


def render_plain_mdt(pack: MdtPack, out: Path) -> None:
    """The same content as the MDT summary PDF, as paragraphs and tables in a plain
    SimpleDocTemplate: what reportlab costs before any of the report's own layout."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Heading1"], styles["Heading2"]
    grid = [("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]

    def table(rows: list[list[str]]) -> Table:
        return Table([[Paragraph(c, body) for c in r] for r in rows], style=grid)

    story: list[Any] = [
        Paragraph(f"MDT summary {pack.meeting_date:%d/%m/%Y} — {pack.venue_or_practice}", h1),
        table([[a.role, a.name] for a in pack.attendees] or [["", ""]]),
    ]
    for n, p in enumerate(pack.patients, 1):
        story += [
            PageBreak() if n == 1 else Spacer(0, 10),
            Paragraph(f"{n}. {p.name} — {p.nhs_number}", h2),
            table(
                [
                    ["Born", f"{p.date_of_birth:%d/%m/%Y} ({p.age})"],
                    ["Practice", p.practice],
                    ["Level", p.level],
                    ["Why on the list", p.cohort_explanation],
                    ["ReSPECT", p.respect_status],
                    ["Carers", "; ".join(p.carers) or "None recorded"],
                    ["On the agenda", p.reason_on_agenda],
                ]
            ),
        ]
        if p.recent_admissions:
            story.append(
                table(
                    [
                        [
                            f"{a.admitted:%d/%m/%Y}",
                            f"{a.discharged:%d/%m/%Y}" if a.discharged else "in hospital",
                            a.hospital,
                            a.follow_up_status,
                        ]
                        for a in p.recent_admissions
                    ]
                )
            )
        if p.needs:
            story.append(table([[x.domain, x.level, x.notes] for x in p.needs]))
        if p.plan_summary:
            story.append(Paragraph(p.plan_summary, body))
        if p.open_referrals:
            story.append(
                table([[r.service, r.status, f"{r.since:%d/%m/%Y}"] for r in p.open_referrals])
            )
        if p.discussion is not None:
            d = p.discussion
            story += [
                Paragraph(f"Situation: {d.situation}", body),
                Paragraph(f"Background: {d.background}", body),
                Paragraph(f"Assessment: {d.assessment}", body),
                Paragraph(f"Recommendation: {d.recommendation}", body),
            ]
        if p.actions:
            story.append(table([[a.description, a.owner, str(a.due or "")] for a in p.actions]))
    story.append(Paragraph("Open actions", h2))
    rows = [
        [a.patient_name or "", a.description, a.owner, str(a.due or "")] for a in pack.open_actions
    ]
    story.append(table(rows or [["", "", "", ""]]))
    SimpleDocTemplate(str(out), pagesize=A4).build(story)
