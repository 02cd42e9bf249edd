"""What the measured lines are compared with in the same run (DESIGN.md §6, third column):
the caseload query written by hand against the raw SQLCipher connection, and the MDT summary's
content laid out with plain reportlab. The bare-window floor of the start-up line is in
:mod:`bench.probe`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from app.db import encryption
from app.db.encryption import DatabaseKey
from app.reports.data import MdtPack

# --- the caseload query in raw SQL ----------------------------------------------------------


def _sql(stmt: Any) -> str:
    """A statement of the app as the SQL text SQLite runs, its values written in."""
    from sqlalchemy.dialects import sqlite

    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


class RawCaseload:
    """The caseload's first page and total for a typed filter: the same SQL the app runs
    (its count and page statements, then each listed patient's next task and last contact),
    executed on a raw SQLCipher connection keyed like the app's, with no ORM and no worker
    thread, rows fetched as tuples."""

    def __init__(self, db_path: Path, key: DatabaseKey | None, page_size: int) -> None:
        from app.db.engine import PAGE_CACHE_KIB

        self.conn = encryption.connect(db_path, key)
        self.conn.execute(f"PRAGMA cache_size=-{int(PAGE_CACHE_KIB)}")  # as the app's
        self.page_size = page_size

    def close(self) -> None:
        self.conn.close()

    def query(self, text: str, now: datetime) -> tuple[int, list[Any]]:
        from app.services import caseload_view as cv

        query = cv.CaseloadQuery(text=text)
        cur = self.conn.cursor()
        total = cur.execute(_sql(cv.count_statement(query, now))).fetchone()[0]
        page = cv.page_statement(
            query,
            now,
            offset=0,
            limit=self.page_size,
            nhs_index=total <= cv.NHS_INDEX_MAX_ROWS,
        )
        rows = cur.execute(_sql(page)).fetchall()
        ids = [r[0] for r in rows]
        if ids:
            cur.execute(_sql(cv.open_tasks_statement(ids))).fetchall()
            cur.execute(_sql(cv.last_contacts_statement(ids))).fetchall()
        cur.close()
        return total, rows


# --- the op log, read as the export reads it ------------------------------------------------


def read_op_log(db_path: Path, key: DatabaseKey | None) -> tuple[float, int]:
    """Seconds to read every op (the columns a bundle carries, in local order) on a raw
    SQLCipher connection keyed like the app's, and how many: what any full export must read,
    before building, encrypting or writing anything. Not a floor DESIGN.md names; the export
    line's note shows it."""
    import time

    from app.db.engine import PAGE_CACHE_KIB

    conn = encryption.connect(db_path, key)
    try:
        conn.execute(f"PRAGMA cache_size=-{int(PAGE_CACHE_KIB)}")
        cur = conn.cursor()
        start = time.perf_counter()
        cur.execute(
            "SELECT op_id, device_id, seq, hlc, table_name, record_id, kind, fields, parents"
            " FROM ops ORDER BY local_order"
        )
        count = 0
        while batch := cur.fetchmany(2000):
            count += len(batch)
        return time.perf_counter() - start, count
    finally:
        conn.close()


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
