"""Memory growth with sweep size: peak memory of a 100-run sweep vs a 1,000-run sweep.

Same experiment shape (baseline_2025, policy {open, ban} x subsidy {10, 40} x R seeds, steps
kept, 2 embedded workers, no report), only the replications change: R = 25 (100 runs) vs
R = 250 (1,000 runs). Runs are short (26 weeks) so that the large sweep stays affordable; the
per-run output (26 weekly rows x ~90 reporters) is what would accumulate if anything kept it.

Measured per sweep, in its own process tree: peak summed RSS of the tree (psutil sampling),
peak RSS of the top (parent) process, and the largest single-process RSS (ru_maxrss).

Target: peak memory of the 1,000-run sweep within 20% of the 100-run sweep (ratio <= 1.2).

    .venv/bin/python benchmarks/memory_growth.py [--small] [--repeats N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    footer,
    header,
    mb,
    parse_args,
    run_measured,
    run_quiet,
    sweep_cmd,
    verdict,
    write_experiment,
)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra_flags)
    small = args.small
    weeks = 13 if small else 26
    sizes = (25, 75) if small else (25, 250)  # replications; x 4 design points
    repeats = args.repeats or (1 if small else 2)
    header("memory growth with sweep size", small)
    print(
        f"   sweeps of {4 * sizes[0]} and {4 * sizes[1]} runs x {weeks} weeks, steps kept, "
        f"--workers 2; {repeats} repeat(s)\n"
    )
    figures: dict[int, dict[str, list[float]]] = {}
    groups: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="magshock-bench-") as tmp:
        tmp = Path(tmp)
        for i in range(repeats):
            for reps in sizes:
                folder = tmp / f"r{reps}"
                folder.mkdir(exist_ok=True)
                experiment = write_experiment(folder, replications=reps, weeks=weeks)
                out = folder / f"out-{i}"
                m = run_quiet(sweep_cmd(experiment, out, workers=2), fresh=out)
                f = figures.setdefault(4 * reps, {"tree": [], "parent": [], "single": [], "s": []})
                f["tree"].append(m.peak_tree_rss_mb)
                f["parent"].append(m.peak_parent_rss_mb)
                f["single"].append(m.max_single_rss_mb)
                f["s"].append(m.wall_s)
                groups[4 * reps] = _row_groups(out / "steps.parquet")
                print(
                    f"   repeat {i + 1}: {4 * reps:5d} runs: {m.wall_s:5.1f} s, tree "
                    f"{mb(m.peak_tree_rss_mb)}, parent {mb(m.peak_parent_rss_mb)}, "
                    f"largest process {mb(m.max_single_rss_mb)} ({m.noise})",
                    flush=True,
                )
        if args.diagnose:
            print("\n   parent RSS by sweep phase (in-process sweep, sampled):")
            for reps in sizes:
                folder = tmp / f"r{reps}"
                cmd = [
                    sys.executable,
                    __file__,
                    "--child-phases",
                    str(folder),
                    str(reps),
                    str(weeks),
                ]
                print(run_measured(cmd).stdout.rstrip())
    print()
    small_n, large_n = (4 * s for s in sizes)
    med = {n: {k: statistics.median(v) for k, v in f.items()} for n, f in figures.items()}
    print(f"{'runs':>6} {'tree total':>12} {'parent':>10} {'largest':>10} {'wall':>8}")
    for n in (small_n, large_n):
        d = med[n]
        print(
            f"{n:>6} {mb(d['tree']):>12} {mb(d['parent']):>10} {mb(d['single']):>10} "
            f"{d['s']:>7.1f}s"
        )
    spread = {k: 100 * (max(v) - min(v)) / min(v) for k, v in figures[large_n].items() if k != "s"}
    print(
        f"   spread over repeats at {large_n} runs: "
        + ", ".join(f"{k} {v:.1f}%" for k, v in spread.items())
    )
    print(
        "   row groups in steps.parquet: "
        + ", ".join(f"{n} runs -> {g}" for n, g in sorted(groups.items()))
    )
    print()
    for key, label in (("tree", "process tree total"), ("parent", "parent process")):
        ratio = med[large_n][key] / med[small_n][key]
        verdict(f"peak memory {large_n} / {small_n} runs ({label})", ratio, 1.2, "<=")
    footer()


def _extra_flags(parser) -> None:
    parser.add_argument(
        "--diagnose", action="store_true", help="also show the parent's RSS by sweep phase"
    )


def _row_groups(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_row_groups


def child_phases(folder: Path, reps: int, weeks: int) -> None:
    """Run one sweep in this process and print its RSS at each phase (for --diagnose)."""
    import shutil
    import threading
    import time

    import psutil

    import experiments.runner as runner
    from experiments.design import load_experiment

    me = psutil.Process()
    marks: dict[str, float] = {}
    peak = [0.0]
    stop = threading.Event()

    def rss() -> float:
        return me.memory_info().rss / 2**20

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.01)

    def wrap(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            marks[f"before {label}"] = rss()
            result = original(*args, **kwargs)
            marks[f"after {label}"] = rss()
            return result

        setattr(owner, name, wrapper)

    wrap(runner.SweepFolder, "consolidate", "consolidate")
    wrap(runner, "_concat_parquet_streaming", "concat of part files")
    out = folder / "phases"
    shutil.rmtree(out, ignore_errors=True)
    design = load_experiment(folder / "bench.toml")
    threading.Thread(target=sample, daemon=True).start()
    marks["start"] = rss()
    runner.sweep(design, out, workers=2)
    stop.set()
    text = ", ".join(f"{k} {v:.0f}" for k, v in marks.items())
    print(f"   {4 * reps:5d} runs (MB): {text}; peak {peak[0]:.0f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child-phases":
        child_phases(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
