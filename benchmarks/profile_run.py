"""Where one 156-week baseline run spends its time; share spent in data collection.

1. ms per run: ``simulate(load_scenario("baseline_2025"), rng=SEED)`` timed N times in this
   process (after a warm-up run); mean, min, max and spread are printed.
2. Shares by component, measured two ways:
   * timers: the component methods are wrapped with perf_counter accumulators (low overhead,
     no profiler distortion) for N runs;
   * cProfile: cumulative times of the same functions over a few profiled runs (the profiler
     inflates call-heavy Python code, so its shares differ a little).
   Components: data collection = ``reporters.WeeklyCollector.collect`` +
   ``reporters.Aggregator.__call__``;
   agent logic = ``OEM.step`` (plus ``AgentSet.shuffle_do`` overhead); market allocation =
   ``Market.clear``; licence review = ``LicensingAuthority.review``;
   supply = ``produce_supply``; construction = ``MagnetSupplyModel.__init__``; results =
   ``get_model_vars_dataframe`` + ``compute_kpis``.
3. The top functions by cumulative and by own time (the evidence for any miss).

Target: data collection <= 25% of a run.

    .venv/bin/python benchmarks/profile_run.py [--small] [--repeats N]
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OtherLoad, footer, header, parse_args, verdict

SEED = 2025
TARGET_DC_SHARE = 25.0

# (label, module path suffix, function name) -> how to find a component in cProfile stats
COMPONENTS = (
    ("data collection: WeeklyCollector.collect", "simulation/reporters.py", "collect"),
    ("data collection: Aggregator.__call__", "simulation/reporters.py", "__call__"),
    ("agent logic: OEM.step", "agents/oem.py", "step"),
    ("agent logic: AgentSet.shuffle_do (incl. OEM.step)", "mesa/agentset.py", "shuffle_do"),
    ("market allocation: Market.clear", "simulation/clearing.py", "clear"),
    ("licence review: LicensingAuthority.review", "agents/authority.py", "review"),
    ("supply: produce_supply", "simulation/model.py", "produce_supply"),
    ("construction: MagnetSupplyModel.__init__", "simulation/model.py", "__init__"),
    ("results: get_model_vars_dataframe", "mesa/datacollection.py", "get_model_vars_dataframe"),
    ("results: compute_kpis", "simulation/kpis.py", "compute_kpis"),
)


def time_runs(spec, n: int) -> list[float]:
    from simulation.run import simulate

    times = []
    for _ in range(n):
        gc.collect()
        start = time.perf_counter()
        simulate(spec, rng=SEED)
        times.append(time.perf_counter() - start)
    return times


def timer_shares(spec, n: int) -> tuple[dict[str, float], float]:
    """Wrap component methods with timers; return seconds per component and total, per run."""
    import mesa.datacollection as dc_mod

    import simulation.reporters as reporters_mod
    import simulation.run as run_mod
    from agents.authority import LicensingAuthority
    from agents.oem import OEM
    from simulation.clearing import Market
    from simulation.model import MagnetSupplyModel

    acc: dict[str, float] = defaultdict(float)
    targets = [
        (reporters_mod.WeeklyCollector, "collect", "data collection"),
        (reporters_mod.Aggregator, "__call__", "data collection"),
        (OEM, "step", "agent logic (OEM.step)"),
        (Market, "clear", "market allocation"),
        (LicensingAuthority, "review", "licence review"),
        (MagnetSupplyModel, "produce_supply", "supply"),
        (MagnetSupplyModel, "__init__", "construction"),
        (dc_mod.DataCollector, "get_model_vars_dataframe", "results (frame + KPIs)"),
        (run_mod, "compute_kpis", "results (frame + KPIs)"),
    ]
    saved = []
    for owner, name, bucket in targets:
        original = getattr(owner, name)
        saved.append((owner, name, original))

        def make(original=original, bucket=bucket):
            @functools.wraps(original)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    acc[bucket] += time.perf_counter() - start

            return wrapper

        setattr(owner, name, make())
    try:
        total = 0.0
        for _ in range(n):
            start = time.perf_counter()
            run_mod.simulate(spec, rng=SEED)
            total += time.perf_counter() - start
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    return {k: v / n for k, v in acc.items()}, total / n


def profile(spec, n: int) -> pstats.Stats:
    from simulation.run import simulate

    profiler = cProfile.Profile()
    for _ in range(n):
        profiler.enable()
        simulate(spec, rng=SEED)
        profiler.disable()
    return pstats.Stats(profiler)


def find(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function ``name`` defined in a file ending with ``suffix``."""
    total = 0.0
    for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and file.replace("\\", "/").endswith(suffix):
            total += ct
    return total


def _short(line: str) -> str:
    """Drop the long site-packages / repository prefixes from a pstats line."""
    for prefix in (sys.prefix + "/lib/python3.12/site-packages/", str(Path.cwd()) + "/"):
        line = line.replace(prefix, "")
    return line


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    small = args.small
    n_time = args.repeats or (5 if small else 20)
    n_prof = 1 if small else 3
    header("profile of one 156-week baseline run", small)
    from simulation.scenario_io import load_scenario

    spec = load_scenario("baseline_2025")
    print(
        f"   scenario baseline_2025: {spec.simulation.weeks} weeks, "
        f"{sum(o.count for o in spec.oems)} OEMs in {len(spec.oems)} groups, seed {SEED}"
    )
    time_runs(spec, 1)  # warm-up

    with OtherLoad() as load:
        times = [t * 1000 for t in time_runs(spec, n_time)]
    spread = 100 * (max(times) - min(times)) / min(times)
    print(
        f"\n1. ms per run ({n_time} runs): mean {statistics.mean(times):.1f}, "
        f"min {min(times):.1f}, max {max(times):.1f}, stdev {statistics.stdev(times):.1f}, "
        f"spread {spread:.0f}% (other load {load.pct:.0f}%)"
    )

    shares, total = timer_shares(spec, n_time)
    print(f"\n2a. shares by timers ({n_time} runs, {total * 1000:.1f} ms per run with timers):")
    for bucket, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"    {bucket:<48} {seconds * 1000:7.1f} ms  {100 * seconds / total:5.1f}%")
    other = total - sum(shares.values())
    label = "other (step glue, accounting, reporters setup)"
    print(f"    {label:<48} {other * 1000:7.1f} ms  {100 * other / total:5.1f}%")
    dc_timer = 100 * shares.get("data collection", 0.0) / total

    stats = profile(spec, n_prof)
    prof_total = find(stats, "simulation/run.py", "simulate")
    print(
        f"\n2b. shares by cProfile cumulative time ({n_prof} runs, "
        f"{prof_total / n_prof * 1000:.1f} ms per run under the profiler):"
    )
    for label, suffix, name in COMPONENTS:
        ct = find(stats, suffix, name)
        print(f"    {label:<52} {ct / n_prof * 1000:7.1f} ms  {100 * ct / prof_total:5.1f}%")
    dc_prof = (
        100
        * (
            find(stats, "simulation/reporters.py", "collect")
            + find(stats, "simulation/reporters.py", "__call__")
        )
        / prof_total
    )

    for order, title in (("cumulative", "cumulative"), ("tottime", "own (tottime)")):
        buf = io.StringIO()
        stats.stream = buf  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(14)
        lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
        print(f"\n3. top functions by {title} time ({n_prof} profiled runs):")
        for ln in lines[start : start + 15]:
            print("    " + _short(ln))

    print()
    verdict("data collection share of a run (timers)", dc_timer, TARGET_DC_SHARE, "<=", "%")
    verdict("data collection share of a run (cProfile)", dc_prof, TARGET_DC_SHARE, "<=", "%")
    footer()


if __name__ == "__main__":
    main()
