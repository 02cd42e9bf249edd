"""The lines of DESIGN.md §6, each measured several times on one dataset.

Every in-process measurement opens its own session (one unit of work per user action, as the
app does), runs once untimed to warm the caches, then ``repeat`` timed times; the line's value
is the median. Start-up and memory are measured in fresh interpreters (:mod:`bench.probe`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.context import AppContext, open_context
from app.core.paths import AppPaths
from bench.dataset import Dataset, bench_now, use_bench_passphrase
from bench.floors import RawCaseload, read_op_log, render_plain_mdt

PROBE = Path(__file__).resolve().parent / "probe.py"
MB = 1_000_000
WARMUP = 1  # untimed runs before the timed ones (0 for a quick check of the harness)


@dataclass(frozen=True)
class Budget:
    limit: float
    kind: str  # "seconds" | "ratio" (value / floor) | "bytes"

    def passed(self, value: float, floor: float | None) -> bool:
        if self.kind == "ratio":
            return floor is not None and value <= self.limit * floor
        return value <= self.limit

    def text(self) -> str:
        if self.kind == "ratio":
            return f"≤ {self.limit:g} × floor"
        if self.kind == "bytes":
            return f"≤ {self.limit / MB:,.0f} MB"
        return f"≤ {fmt_seconds(self.limit)}"


@dataclass
class Result:
    key: str
    name: str
    budget: Budget
    samples: list[float]
    floor_samples: list[float] = field(default_factory=list)
    note: str = ""
    value: float | None = None  # defaults to the median of samples
    floor_value: float | None = None

    @property
    def median(self) -> float:
        if self.value is not None:
            return self.value
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def floor(self) -> float | None:
        if self.floor_value is not None:
            return self.floor_value
        return statistics.median(self.floor_samples) if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        f = self.floor
        return self.median / f if f else None

    @property
    def passed(self) -> bool:
        return bool(self.samples) and self.budget.passed(self.median, self.floor)

    def show(self, value: float) -> str:
        if self.budget.kind == "bytes":
            return f"{value / MB:,.0f} MB"
        return fmt_seconds(value)


def fmt_seconds(s: float) -> str:
    if s != s:  # nan
        return "—"
    if s < 1:
        return f"{s * 1000:,.1f} ms"
    return f"{s:,.2f} s"


def timed(fn: Callable[[], Any], repeat: int, warmup: int | None = None) -> list[float]:
    for _ in range(WARMUP if warmup is None else warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


# --- Today, weekly summary, MDT PDF ---------------------------------------------------------


def today_view(ctx: AppContext, repeat: int) -> Result:
    """What the Today screen loads for the signed-in coordinator (what the app opens on):
    open 48-hour clocks, tasks due by the end of the day, referrals awaiting a reply. The
    whole team's view (a team lead choosing "everyone") is measured too, for the note."""
    from app.services.caseload_view import signed_in_coordinator
    from app.ui.screens.today import load_today

    now = bench_now()
    with ctx.db.read() as s:
        who = signed_in_coordinator(s)
    counts: dict[str | None, list[int]] = {}

    def run(coordinator_id: str | None) -> None:
        with ctx.db.read() as s:
            data = load_today(s, now=now, coordinator_id=coordinator_id)
        counts[coordinator_id] = [len(data.clocks), len(data.tasks), len(data.referrals)]

    mine = who.value if who else None
    samples = timed(lambda: run(mine), repeat)
    team = timed(lambda: run(None), max(1, repeat // 2))
    clocks, tasks, referrals = counts[mine]
    t_clocks, t_tasks, t_referrals = counts[None]
    return Result(
        "today",
        "Today view (open clocks + due tasks)",
        Budget(0.050, "seconds"),
        samples,
        note=(
            f"signed-in coordinator: {clocks:,} clocks, {tasks:,} tasks, {referrals:,} referrals;"
            f" whole team {fmt_seconds(statistics.median(team))} for {t_clocks:,} clocks,"
            f" {t_tasks:,} tasks, {t_referrals:,} referrals"
        ),
    )


def weekly_json(ctx: AppContext, repeat: int) -> Result:
    from app.services.weekly import build_weekly_summary

    now = bench_now()
    size: list[int] = [0]

    def run() -> None:
        with ctx.db.read() as s:
            summary = build_weekly_summary(s, week=None, as_of=now)
        size[0] = len(json.dumps(summary.to_json_dict(), sort_keys=True))

    samples = timed(run, repeat)
    return Result(
        "weekly",
        "weekly summary (JSON)",
        Budget(0.500, "seconds"),
        samples,
        note=f"{size[0]:,} bytes of JSON",
    )


def mdt_pdf(ctx: AppContext, dataset: Dataset, repeat: int, work: Path) -> Result:
    from app.reports.mdt_pdf import render_mdt_pdf
    from app.services.mdt_pack import build_mdt_pack

    now = bench_now()
    packs: list[Any] = []
    pages: list[int] = [0]

    def run() -> None:
        with ctx.db.read() as s:
            pack = build_mdt_pack(s, meeting_id=dataset.meeting_id, printed_by="Benchmark", now=now)
        pages[0] = render_mdt_pdf(pack, work / "mdt.pdf")
        packs[:] = [pack]

    samples = timed(run, repeat)
    pack = packs[0]
    floor = timed(lambda: render_plain_mdt(pack, work / "mdt-plain.pdf"), repeat)
    return Result(
        "mdt_pdf",
        f"MDT PDF, {len(pack.patients)} patients",
        Budget(1.0, "seconds"),
        samples,
        floor,
        note=f"{pages[0]} pages; floor = plain reportlab, same content",
    )


# --- caseload filter ------------------------------------------------------------------------


def keystrokes(ctx: AppContext) -> list[str]:
    """Typing the commonest family name, then the first six digits of an NHS number."""
    from app.models import Patient

    with ctx.db.read() as s:
        name = s.scalars(
            select(Patient.family_name)
            .group_by(Patient.family_name)
            .order_by(func.count().desc(), Patient.family_name)
            .limit(1)
        ).first()
        nhs = s.scalars(select(Patient.nhs_number).order_by(Patient.id).limit(1)).first()
    typed = [name[:n] for n in range(1, len(name) + 1)] if name else []
    if nhs:
        typed += [nhs[:n] for n in range(1, 7)]
    return typed


@contextmanager
def _qt_app() -> Iterator[Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["carecoord-bench"])
    yield app


def caseload_filter(ctx: AppContext, dataset: Dataset, repeat: int) -> Result:
    """Each keystroke: the query runs on the app's worker pool and the caseload model is reset
    with the first page (timed to the model's ``modelReset``). The 200 ms debounce of the
    search box is a deliberate pause and is not counted. The line's value is the slowest
    keystroke's median; the floor is the same SQL run on a raw SQLCipher connection (no ORM,
    no worker thread, no model), for that keystroke."""
    from PySide6.QtCore import QEventLoop, QTimer

    from app.services.caseload_view import CaseloadQuery, search_caseload
    from app.ui.models.caseload import CaseloadTableModel
    from app.ui.screens.caseload import PAGE_SIZE
    from app.ui.workers import Runner

    now = bench_now()
    typed = keystrokes(ctx)
    with _qt_app():
        model = CaseloadTableModel()
        runner = Runner(ctx.db)
        loop = QEventLoop()
        done: list[float] = []

        def reset() -> None:
            done.append(time.perf_counter())
            loop.quit()

        model.modelReset.connect(reset)
        guard = QTimer()  # a query that never comes back is reported, not awaited for ever
        guard.setSingleShot(True)
        guard.setInterval(120_000)
        guard.timeout.connect(loop.quit)

        def keystroke(text: str) -> float:
            query = CaseloadQuery(text=text)

            def job(session: Any) -> Any:
                return search_caseload(session, query=query, offset=0, limit=PAGE_SIZE, now=now)

            done.clear()
            start = time.perf_counter()
            runner.read(job, on_success=model.reset_page)
            guard.start()
            if not done:
                loop.exec()
            guard.stop()
            if not done:
                raise RuntimeError(f"the caseload model was not reset for {text!r}")
            return done[0] - start

        per_key: dict[str, list[float]] = {t: [] for t in typed}
        for _ in range(WARMUP):
            for text in typed:
                keystroke(text)
        for _ in range(repeat):
            for text in typed:
                per_key[text].append(keystroke(text))
        runner.wait()
    raw = RawCaseload(dataset.paths.db_path, ctx.db_key, PAGE_SIZE)
    try:  # typed in the same order and as often as above, so the caches see the same
        floor_key: dict[str, list[float]] = {t: [] for t in typed}
        for n in range(WARMUP + repeat):
            for text in typed:
                start = time.perf_counter()
                raw.query(text, now)
                if n >= WARMUP:
                    floor_key[text].append(time.perf_counter() - start)
    finally:
        raw.close()
    medians = {t: statistics.median(v) for t, v in per_key.items()}
    worst = max(medians, key=lambda t: medians[t])
    all_samples = [x for v in per_key.values() for x in v]
    floors = {t: statistics.median(v) for t, v in floor_key.items()}
    return Result(
        "filter",
        "caseload filter keystroke → model updated",
        Budget(0.050, "seconds"),
        all_samples,
        [x for v in floor_key.values() for x in v],
        value=medians[worst],
        floor_value=floors[worst],
        note=(
            f"{len(typed)} keystrokes; slowest {_shape(worst)}; median of all "
            f"{fmt_seconds(statistics.median(all_samples))}"
        ),
    )


def _shape(text: str) -> str:
    """A keystroke described without the patient data it contains."""
    kind = "digits" if text.isdigit() else "letters"
    return f"after {len(text)} {kind}"


# --- sync: full export, import into an empty data folder ------------------------------------

KEY_PASSPHRASE = "benchmark team key"


def _sync_service() -> Any:
    """app.services.sync when it is there (the code ``sync export`` / ``sync import`` run),
    else None: the benchmark then drives the bundle layer and the merge directly."""
    try:
        from app.services import sync
    except ImportError:
        return None
    if not all(hasattr(sync, n) for n in ("export_bundle", "import_bundles", "init_team_key")):
        return None
    return sync


class SyncDriver:
    """Full export of a data folder and import of the bundle into a new, empty one."""

    def __init__(self, ctx: AppContext, work: Path) -> None:
        self.ctx = ctx
        self.work = work
        self.service = _sync_service()
        self.path = "app.services.sync" if self.service else "app.sync.bundle + merge_ops"
        if self.service is not None:
            if self.service.team_key_summary(ctx) is None:
                self.service.init_team_key(ctx, label="Benchmark laptop")
            self.key_file = work / "team.cckey"
            self.service.export_key(ctx, self.key_file, KEY_PASSPHRASE)
        else:
            from app.sync.keys import new_device_key, new_team_key

            self.team = new_team_key("benchmark-team")
            self.device = new_device_key(ctx.device_id)

    def export(self, out_dir: Path) -> Path:
        if self.service is not None:
            result = self.service.export_bundle(self.ctx, out=out_dir, full=True)
            return Path(result.path)
        return self._write_all(out_dir)

    def new_target(self, folder: Path) -> AppContext:
        """An empty data folder that holds the team key (not timed)."""
        target = open_context(AppPaths(folder))
        if self.service is not None:
            self.service.import_key(target, self.key_file, KEY_PASSPHRASE)
        return target

    def import_into(self, target: AppContext, bundle: Path) -> int:
        if self.service is not None:
            (outcome,) = self.service.import_bundles(target, [bundle])
            if not outcome.ok:
                raise RuntimeError(f"the bundle was refused: {outcome.message}")
            return int(outcome.new)
        from app.sync.bundle import open_bundle
        from app.sync.merge import merge_ops

        opened = open_bundle(
            bundle,
            team_keys=self.team,
            known_signers={self.device.device_id: self.device.public_bytes()},
        )
        with target.db.write() as s:
            return merge_ops(s, opened.ops, clock=target.clock).new

    def _write_all(self, out_dir: Path) -> Path:
        from app import __version__
        from app.db.migrate import head_revision
        from app.models import Op
        from app.sync.bundle import write_bundle

        ctx = self.ctx
        with ctx.db.read() as s:
            ranges = {
                device: (int(lo), int(hi))
                for device, lo, hi in s.execute(
                    select(Op.device_id, func.min(Op.seq), func.max(Op.seq)).group_by(Op.device_id)
                )
            }
            count = int(s.scalar(select(func.count()).select_from(Op)) or 0)

        def stream() -> Iterator[dict[str, Any]]:
            cols = (
                Op.op_id, Op.device_id, Op.seq, Op.hlc, Op.table_name, Op.record_id, Op.kind,
                Op.fields, Op.parents,
            )  # fmt: skip
            with ctx.db.read() as s:
                rows = s.execute(
                    select(*cols).order_by(Op.local_order).execution_options(yield_per=5000)
                )
                for op_id, device, seq, hlc, table, record, kind, fields, parents in rows:
                    yield {
                        "op_id": op_id,
                        "device_id": device,
                        "seq": seq,
                        "hlc": hlc,
                        "table": table,
                        "record_id": record,
                        "kind": kind,
                        "fields": json.loads(fields),
                        "parents": json.loads(parents),
                    }

        info = write_bundle(
            out_dir,
            ops=stream(),
            op_count=count,
            seq_ranges=ranges,
            team_key=self.team,
            device_key=self.device,
            schema_version=head_revision(),
            app_version=__version__,
        )
        return info.path


def sync_lines(
    ctx: AppContext, dataset: Dataset, repeat: int, work: Path, *, import_repeat: int
) -> list[Result]:
    """Full export ``repeat`` times; then, unless ``import_repeat`` is 0, import that bundle
    into a new empty data folder ``import_repeat`` times."""
    driver = SyncDriver(ctx, work)
    out_dir = work / "bundles"
    samples: list[float] = []
    bundle: Path | None = None
    for n in range(repeat + WARMUP):  # the first runs warm the caches and are not counted
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        start = time.perf_counter()
        bundle = driver.export(out_dir)
        if n >= WARMUP:
            samples.append(time.perf_counter() - start)
    assert bundle is not None
    size = bundle.stat().st_size
    reading, read = read_op_log(dataset.paths.db_path, ctx.db_key)
    export = Result(
        "export",
        "export bundle of all changes (full)",
        Budget(3.0, "seconds"),
        samples,
        note=f"{read:,} ops, {size / MB:,.0f} MB bundle; via {driver.path}; reading those "
        f"ops alone on a raw SQLCipher connection takes {fmt_seconds(reading)}",
    )
    if not import_repeat:
        return [export]
    imports: list[float] = []
    merged = 0
    for _ in range(import_repeat):
        folder = Path(tempfile.mkdtemp(prefix="import-", dir=work))
        target = driver.new_target(folder)
        try:
            start = time.perf_counter()
            merged = driver.import_into(target, bundle)
            imports.append(time.perf_counter() - start)
        finally:
            target.close()
            shutil.rmtree(folder, ignore_errors=True)
    imported = Result(
        "import",
        "import of that bundle into an empty DB",
        Budget(10.0, "seconds"),
        imports,
        note=f"{merged:,} ops merged; via {driver.path}",
    )
    return [export, imported]


# --- start-up and memory, in fresh interpreters ---------------------------------------------


def probe(mode: str, dataset: Dataset, work: Path) -> dict[str, Any]:
    """One run of :mod:`bench.probe` in a fresh interpreter, with fresh window settings (a
    start on the default screen) and compiled bytecode kept between runs, as an installed app
    has it (this repository's environment may switch bytecode files off)."""
    use_bench_passphrase()
    config = Path(tempfile.mkdtemp(prefix="config-", dir=work))
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work.parent / "pycache")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(config)  # no user settings read or written
    env["BENCH_LAUNCHED"] = repr(time.monotonic())
    done = subprocess.run(
        [sys.executable, "-c", PROBE.read_text(), mode, str(dataset.data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    shutil.rmtree(config, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} probe failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result.get("exit"):
        raise RuntimeError(f"the app did not start ({mode}):\n{done.stderr[-3000:]}")
    if mode == "rss" and "VmRSS" not in result:
        raise RuntimeError(
            f"the caseload screen never showed its first page:\n{done.stderr[-3000:]}"
        )
    return result


def _painted(result: dict[str, Any]) -> float:
    marks = result["marks"]
    if "painted" not in marks:
        raise RuntimeError("the main window never painted")
    return float(marks["painted"])


def startup_lines(dataset: Dataset, repeat: int, work: Path) -> list[Result]:
    """Start-up (interleaved with the bare-window floor, so a busy moment hits both alike) and
    memory. Without warm-up (a quick check of the harness) one probe serves both lines."""
    for _ in range(WARMUP):  # file cache; and any daily backup is made here, not timed
        probe("app", dataset, work)
        probe("bare", dataset, work)
    app_runs, bare_runs, rss_runs, peaks = [], [], [], []
    phases: dict[str, list[float]] = {}
    total = None

    def memory(result: dict[str, Any]) -> None:
        nonlocal total
        rss_runs.append(float(result["VmRSS"]))
        peaks.append(float(result["VmHWM"]))
        total = result.get("caseload_total")

    for _ in range(repeat):
        bare_runs.append(_painted(probe("bare", dataset, work)))
        result = probe("app" if WARMUP else "rss", dataset, work)
        app_runs.append(_painted(result))
        for name, at in result["marks"].items():
            phases.setdefault(name, []).append(at)
        if not WARMUP:
            memory(result)
    for _ in range(max(1, repeat // 2) if WARMUP else 0):
        memory(probe("rss", dataset, work))
    phase_text = ", ".join(
        f"{label} {fmt_seconds(statistics.median(phases[name]))}"
        for name, label in (("open_data", "data opened from"), ("data_open", "to"))
        if name in phases
    )
    start = Result(
        "start",
        "app start to first painted main window",
        Budget(2.5, "ratio"),
        app_runs,
        bare_runs,
        note=f"phases (since launch): {phase_text}",
    )
    rss = Result(
        "rss",
        "memory with the caseload screen open (RSS)",
        Budget(300 * MB, "bytes"),
        rss_runs,
        note=f"peak {statistics.median(peaks) / MB:,.0f} MB; {total or 0:,} patients listed",
    )
    return [start, rss]
