"""Throughput and peak memory: `magshock sweep` vs `mesa.batch_run` on the same runs and outputs.

Both variants run the baseline_2025 model over licensing_policy {open, ban} x
subsidy_usd_per_kg {10, 40} x R replications (seed of replication r: the sweep's
common-random-numbers seed, passed to batch_run as its ``rng`` list), keep every weekly model
reporter (batch_run: data_collection_period=1; ours: [outputs] steps = true) and use two worker
processes (batch_run: number_processes=2; ours: --workers 2). batch_run's list of dicts is
turned into a DataFrame and written to Parquet so that both end with the same table on disk.

Each variant runs in its own process tree: wall time end to end (interpreter start to exit),
peak of the summed RSS of the tree (psutil sampling) and the largest single-process RSS
(``ru_maxrss`` from wait4). Repeats are interleaved (ours, ref, ours, ref, ...).

Target: ours >= 2x the runs/s of batch_run, at lower peak memory.

    .venv/bin/python benchmarks/sweep_vs_batch_run.py [--small] [--repeats N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Series,
    dump_json,
    footer,
    header,
    mb,
    parse_args,
    profile_sweep,
    run_quiet,
    sweep_cmd,
    sweep_inner_seconds,
    verdict,
    write_experiment,
)

POLICIES = ("open", "ban")
SUBSIDIES = (10.0, 40.0)
SEED_ROOT = 1


def child_batch_run(spec: dict) -> None:
    """Run mesa.batch_run on the same grid and seeds; write steps.parquet; print timings."""
    import pandas as pd
    from mesa.batchrunner import batch_run

    from experiments.design import run_seed
    from simulation.model import MagnetSupplyModel

    seeds = [run_seed(SEED_ROOT, 0, r, True) for r in range(spec["replications"])]
    start = time.perf_counter()
    results = batch_run(
        MagnetSupplyModel,
        parameters={
            "scenario": "baseline_2025",
            "licensing_policy": list(POLICIES),
            "subsidy_usd_per_kg": list(SUBSIDIES),
            "weeks": spec["weeks"],
        },
        number_processes=2,
        rng=seeds,
        data_collection_period=1,
        max_steps=spec["weeks"],
        display_progress=False,
    )
    ran = time.perf_counter()
    frame = pd.DataFrame(results)
    Path(spec["out"]).mkdir(parents=True, exist_ok=True)
    frame.to_parquet(Path(spec["out"]) / "steps.parquet", index=False)
    done = time.perf_counter()
    print(
        json.dumps(
            {"batch_run_s": ran - start, "to_parquet_s": done - ran, "rows": len(frame)},
        )
    )


def check_same_outputs(ours: Path, ref: Path) -> str:
    """Compare per-run totals of two reporters between the two result tables."""
    import numpy as np
    import pandas as pd

    runs = pd.read_parquet(
        ours / "runs.parquet", columns=["run_id", "policy", "subsidy_usd_per_kg", "seed"]
    ).rename(columns={"subsidy_usd_per_kg": "subsidy"})
    cols = ["vehicles_produced__IN", "licences_issued_total", "china_exports_t"]
    steps = pd.read_parquet(ours / "steps.parquet", columns=["run_id", *cols])
    a = steps.groupby("run_id")[cols].sum().join(runs.set_index("run_id"))
    a = a.set_index(["policy", "subsidy", "seed"]).sort_index()[cols]
    b = pd.read_parquet(ref / "steps.parquet")
    b = b.rename(columns={"licensing_policy": "policy", "subsidy_usd_per_kg": "subsidy"})
    b = b.groupby(["policy", "subsidy", "rng"])[cols].sum()
    b.index = b.index.set_names(["policy", "subsidy", "seed"])
    b = b.sort_index()
    n_steps = len(steps), len(pd.read_parquet(ref / "steps.parquet", columns=["Step"]))
    same = a.shape == b.shape and np.allclose(a.to_numpy(), b.loc[a.index].to_numpy())
    verdict_text = "identical" if same else "DIFFERENT"
    return f"{verdict_text} per-run totals; step rows {n_steps[0]} vs {n_steps[1]}"


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], _extra_flags)
    small = args.small
    reps_cfg = 4 if small else 40
    weeks = 104 if small else 156
    repeats = args.repeats or (2 if small else 3)
    n_runs = len(POLICIES) * len(SUBSIDIES) * reps_cfg
    header("sweep vs mesa.batch_run", small)
    print(f"   grid: 2 policies x 2 subsidies x {reps_cfg} seeds = {n_runs} runs of {weeks} weeks")
    print(f"   2 worker processes each; {repeats} interleaved repeats\n")

    ours_rate = Series("ours: magshock sweep --workers 2", "runs/s", higher_is_better=True)
    ref_rate = Series("ref: mesa.batch_run(number_processes=2)", "runs/s", higher_is_better=True)
    mem = {k: {"tree": [], "single": [], "parent": [], "procs": []} for k in ("ours", "ref")}
    inner = {"ours": [], "ref": []}
    run_ms: list[float] = []  # mean time inside simulate() per run, in the sweep's workers
    check = ""
    with tempfile.TemporaryDirectory(prefix="magshock-bench-") as tmp:
        tmp = Path(tmp)
        experiment = write_experiment(
            tmp,
            replications=reps_cfg,
            weeks=weeks,
            seed_root=SEED_ROOT,
            policies=POLICIES,
            subsidies=SUBSIDIES,
        )
        for i in range(repeats):
            out = tmp / f"ours-{i}"
            m = run_quiet(sweep_cmd(experiment, out, workers=2), fresh=out)
            noise = [m.noise]
            ours_rate.values.append(n_runs / m.wall_s)
            inner["ours"].append(sweep_inner_seconds(m.stdout) or float("nan"))
            _keep(mem["ours"], m)
            run_ms.append(1000 * _mean_run_seconds(out))

            ref_out = tmp / f"ref-{i}"
            spec = {"replications": reps_cfg, "weeks": weeks, "out": str(ref_out)}
            child = [sys.executable, __file__, "--child-batch-run", dump_json(spec)]
            m = run_quiet(child, fresh=ref_out)
            ref_rate.values.append(n_runs / m.wall_s)
            inner["ref"].append(json.loads(m.stdout.strip().splitlines()[-1])["batch_run_s"])
            _keep(mem["ref"], m)
            noise.append(m.noise)
            if i == 0:
                check = check_same_outputs(out, ref_out)
            print(
                f"   repeat {i + 1}: ours {ours_rate.values[-1]:.2f} runs/s, "
                f"batch_run {ref_rate.values[-1]:.2f} runs/s ({noise[0]}; {noise[1]})",
                flush=True,
            )
        if args.profile:
            print("\nprofile of our sweep's parent process (one extra sweep, under cProfile):")
            print(profile_sweep(experiment, tmp / "profiled", 2, None))

    print()
    print("throughput, end to end (interpreter start to exit, incl. writing Parquet):")
    print("  " + ours_rate.line("{:.2f}"))
    print("  " + ref_rate.line("{:.2f}"))
    print(
        f"  inside the run loop only: ours {_fmt_list(inner['ours'])} s (sweep's own timer), "
        f"batch_run {_fmt_list(inner['ref'])} s (batch_run call)"
    )
    print(f"  output check: {check}")
    per_run = _med(run_ms)
    ceiling = 2 / (per_run / 1000)
    print(
        f"  ours: {per_run:.0f} ms inside simulate() per run in the workers (median); "
        f"compute-bound ceiling on 2 cores = {ceiling:.1f} runs/s "
        f"= {ceiling / ref_rate.best:.2f}x batch_run's best"
    )
    print("peak memory (median over repeats):")
    for key, label in (("ours", "ours"), ("ref", "batch_run")):
        d = mem[key]
        print(
            f"  {label:<10} tree total {mb(_med(d['tree']))}, "
            f"largest process {mb(_med(d['single']))}, top process {mb(_med(d['parent']))}, "
            f"up to {int(max(d['procs']))} processes"
        )
    print()
    speed = ours_rate.best / ref_rate.best
    speed_med = ours_rate.median / ref_rate.median
    tree_ratio = _med(mem["ours"]["tree"]) / _med(mem["ref"]["tree"])
    single_ratio = _med(mem["ours"]["single"]) / _med(mem["ref"]["single"])
    print(f"   throughput ratio (median/median): {speed_med:.2f}x")
    verdict("throughput ours / batch_run (best of repeats)", speed, 2.0, ">=")
    verdict("peak memory ours / batch_run (process tree total)", tree_ratio, 1.0, "<=")
    verdict("peak memory ours / batch_run (largest single process)", single_ratio, 1.0, "<=")
    footer()


def _extra_flags(parser) -> None:
    parser.add_argument(
        "--profile", action="store_true", help="also profile our sweep's parent process"
    )


def _mean_run_seconds(folder: Path) -> float:
    import pandas as pd

    return float(pd.read_parquet(folder / "runs.parquet", columns=["wall_time_s"]).mean().iloc[0])


def _keep(store: dict, m) -> None:
    store["tree"].append(m.peak_tree_rss_mb)
    store["single"].append(m.max_single_rss_mb)
    store["parent"].append(m.peak_parent_rss_mb)
    store["procs"].append(m.peak_processes)


def _med(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def _fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child-batch-run":
        child_batch_run(json.loads(sys.argv[2]))
    else:
        main()
