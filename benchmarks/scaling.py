"""Worker scaling: `magshock sweep` with 2 workers vs 1, and Dask LocalCluster vs embedded pool.

The same sweep (baseline_2025, policy {open, ban} x subsidy {10, 40} x R seeds, 156 weeks,
steps kept, no report) runs as:

* ``--workers 1``                      (in-process, the 1-worker reference),
* ``--workers 2``                      (embedded ProcessPoolExecutor),
* ``--scheduler local --workers 2``    (Dask LocalCluster, 2 single-threaded workers).

Each is a separate ``magshock`` process; throughput = runs / end-to-end wall time. The sweep's
own timer (the 'done: ... in X s' line, without interpreter start-up and imports) is printed
too. Repeats are interleaved so that background load hits all three alike.

Targets: 2 workers >= 1.8x the throughput of 1 worker; Dask LocalCluster within 10% of the
embedded pool (ratio >= 0.9).

    .venv/bin/python benchmarks/scaling.py [--small] [--repeats N]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    OtherLoad,
    Series,
    footer,
    header,
    parallel_ceiling,
    parse_args,
    profile_sweep,
    run_quiet,
    sweep_cmd,
    sweep_inner_seconds,
    verdict,
    write_experiment,
)

VARIANTS = (
    ("w1", "embedded, --workers 1", 1, None),
    ("w2", "embedded, --workers 2", 2, None),
    ("dask", "dask LocalCluster, --workers 2", 2, "local"),
)


def _extra_flags(parser) -> None:
    parser.add_argument(
        "--profile", action="store_true", help="also profile each variant's parent process"
    )


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra_flags)
    small = args.small
    reps_cfg = 10 if small else 75  # x 4 design points
    weeks = 52 if small else 156
    repeats = args.repeats or (1 if small else 2)
    n_runs = 4 * reps_cfg
    header("worker scaling", small)
    print(f"   sweep: 4 design points x {reps_cfg} seeds = {n_runs} runs of {weeks} weeks")
    print(f"   {repeats} interleaved repeat(s) per variant\n")

    rate = {k: Series(label, "runs/s", higher_is_better=True) for k, label, _, _ in VARIANTS}
    inner = {k: Series(label + " (sweep timer)", "runs/s", higher_is_better=True)
             for k, label, _, _ in VARIANTS}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="magshock-bench-") as tmp:
        tmp = Path(tmp)
        experiment = write_experiment(tmp, replications=reps_cfg, weeks=weeks)
        for i in range(repeats):
            for key, label, workers, scheduler in VARIANTS:
                out = tmp / f"{key}-{i}"
                m = run_quiet(sweep_cmd(experiment, out, workers, scheduler), fresh=out)
                rate[key].values.append(n_runs / m.wall_s)
                seconds = sweep_inner_seconds(m.stdout)
                inner[key].values.append(n_runs / seconds if seconds else float("nan"))
                print(
                    f"   repeat {i + 1} {label:<32} {m.wall_s:6.1f} s wall "
                    f"({rate[key].values[-1]:.2f} runs/s; sweep timer {seconds} s; {m.noise})",
                    flush=True,
                )
        if args.profile:
            for key, label, workers, scheduler in VARIANTS:
                print(f"\nprofile of the sweep's parent process, {label}:")
                print(profile_sweep(experiment, tmp / f"profiled-{key}", workers, scheduler))
        n_ceiling = 6 if small else 15
        with OtherLoad() as load:
            alone, together, ceiling = parallel_ceiling(n_ceiling, weeks)
        print(
            f"   hardware reference (plain simulate() loops, no sweep code, {n_ceiling} runs "
            f"each): {alone:.0f} ms/run alone, {together:.0f} ms/run with 2 processes at once "
            f"-> 2-process ceiling {ceiling:.2f}x (other load {load.pct:.0f}%)"
        )
    print()
    print("throughput, end to end:")
    for key, *_ in VARIANTS:
        print("  " + rate[key].line("{:.2f}"))
    print("throughput, sweep's own timer (run loop only, no interpreter start/imports):")
    for key, *_ in VARIANTS:
        print("  " + inner[key].line("{:.2f}"))
    print()
    s21 = rate["w2"].best / rate["w1"].best
    dask = rate["dask"].best / rate["w2"].best
    print(
        f"   sweep-timer ratios: 2w/1w {inner['w2'].best / inner['w1'].best:.2f}x, "
        f"dask/embedded {inner['dask'].best / inner['w2'].best:.2f}x"
    )
    print(
        f"   median ratios: 2w/1w {rate['w2'].median / rate['w1'].median:.2f}x, "
        f"dask/embedded {rate['dask'].median / rate['w2'].median:.2f}x"
    )
    print(f"   2w/1w as a share of the hardware ceiling measured above: {s21 / ceiling:.0%}")
    verdict("2 workers / 1 worker throughput (best)", s21, 1.8, ">=")
    verdict("dask LocalCluster / embedded pool throughput (best)", dask, 0.9, ">=")
    footer()


if __name__ == "__main__":
    main()
