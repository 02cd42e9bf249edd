"""``python -m bench``: the performance budget of DESIGN.md §6 on demo databases.

    python -m bench [--patients 50000] [--small 5000] [--repeat N] [--quick] [--only LINE,...]

Builds (once, cached under bench/.cache/) a demo team with a year of activity, measures each
line several times, prints a table (median, budget, floor, ratio, PASS/FAIL) for the main size
and, unless --no-growth, the same table at the small size with the growth ratio per line.
Exit status: 0 when every budget at the main size is met, 1 when any fails, 2 on bad options,
3 when the benchmark itself could not finish.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from bench import lines
from bench.dataset import DEFAULT_CACHE, ensure_dataset, open_dataset, prune_backups
from bench.lines import (
    Result,
    caseload_filter,
    mdt_pdf,
    startup_lines,
    sync_lines,
    today_view,
    weekly_json,
)
from bench.report import growth_table, machine, notes, results_table

LINES = ("start", "filter", "today", "weekly", "mdt_pdf", "export", "import", "rss")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--patients", type=int, default=50_000, help="main size (default 50,000)")
    p.add_argument(
        "--small", type=int, default=5_000, help="size the growth is measured from (5,000)"
    )
    p.add_argument("--no-growth", action="store_true", help="measure the main size only")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per line (default 5)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--quick",
        action="store_true",
        help="a 200-patient end-to-end check of the harness: one size, one untimed-warm-up-free "
        "run per line (numbers only indicative)",
    )
    p.add_argument("--only", help="comma-separated lines to run: " + ",".join(LINES))
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached databases")
    args = p.parse_args(argv)
    if args.quick:
        args.patients, args.repeat, args.no_growth = 200, 1, True
        lines.WARMUP = 0
    if args.patients < 1 or args.small < 1 or args.repeat < 1:
        p.error("--patients, --small and --repeat must be at least 1")
    wanted = set(LINES if not args.only else args.only.split(","))
    if wanted - set(LINES):
        p.error(f"unknown line(s): {', '.join(sorted(wanted - set(LINES)))}")
    args.lines = wanted
    return args


def measure(args: argparse.Namespace, patients: int) -> list[Result]:
    dataset = ensure_dataset(
        args.cache_dir, patients=patients, seed=args.seed, rebuild=args.rebuild
    )
    print(
        f"measuring {patients:,} patients ({dataset.records:,} records, {dataset.ops:,} ops, "
        f"{dataset.db_bytes / 1e6:,.0f} MB database)...",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="work-", dir=args.cache_dir))
    results: list[Result] = []
    want = args.lines
    try:
        if want & {"start", "rss"}:
            results += [r for r in startup_lines(dataset, args.repeat, work) if r.key in want]
            prune_backups(dataset)
        ctx = open_dataset(dataset)
        try:
            if "filter" in want:
                results.append(caseload_filter(ctx, dataset, args.repeat))
            if "today" in want:
                results.append(today_view(ctx, args.repeat))
            if "weekly" in want:
                results.append(weekly_json(ctx, args.repeat))
            if "mdt_pdf" in want:
                results.append(mdt_pdf(ctx, dataset, args.repeat, work))
            if want & {"export", "import"}:
                imports = max(1, args.repeat // 2) if "import" in want else 0
                pair = sync_lines(ctx, dataset, args.repeat, work, import_repeat=imports)
                results += [r for r in pair if r.key in want]
        finally:
            ctx.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return run(args)
    except Exception:  # the benchmark itself broke: not the same as a missed budget
        traceback.print_exc()
        print("the benchmark could not finish (exit status 3)", file=sys.stderr)
        return 3


def run(args: argparse.Namespace) -> int:
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}", flush=True)
    small: list[Result] = []
    if not args.no_growth and args.small != args.patients:
        small = measure(args, args.small)
        print(f"\n{args.small:,} patients\n\n{results_table(small)}\n\n{notes(small)}\n")
    main_results = measure(args, args.patients)
    print(f"\n{args.patients:,} patients\n\n{results_table(main_results)}\n")
    print(notes(main_results))
    if small:
        print(f"\ngrowth\n\n{growth_table(args.small, args.patients, small, main_results)}")
    failed = [r.name for r in main_results if not r.passed]
    print(f"\nmachine: {machine()}")
    if failed:
        print(f"budget not met: {'; '.join(failed)}")
        return 1
    print("every budget met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
