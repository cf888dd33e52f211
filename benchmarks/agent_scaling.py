"""Per-step cost vs number of OEM agents: ~100 (count=14) vs ~1,000 (count=143) firms.

baseline_2025 has 7 OEM groups; the flat override ``count`` sets firms per group, so
count=14 gives 98 OEMs and count=143 gives 1,001 (a 10.2x agent ratio). The model is built
first (not timed), then ``run_for(weeks)`` is timed; per-step cost = time / weeks. Best of N
repeats with the same seed, in this process, alternating sizes. The per-step cost is also
shown for the first and last third of the run (does a step get dearer as the run goes on?).

A cProfile of one run at each size then lists the functions whose own time grows most
between the two sizes (the first place to look if the ratio is above target).

Target: per-step time ratio (1,001 vs 98 OEMs) <= 12x (linear would be ~10x).

    .venv/bin/python benchmarks/agent_scaling.py [--small] [--repeats N]
"""

from __future__ import annotations

import cProfile
import gc
import math
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OtherLoad, Series, footer, header, parse_args, verdict

SIZES = (14, 143)  # firms per OEM group (7 groups)


def build(count: int, weeks: int, seed: int = 1):
    from simulation.model import MagnetSupplyModel

    return MagnetSupplyModel(scenario="baseline_2025", rng=seed, count=count, weeks=weeks)


def timed_run(count: int, weeks: int) -> tuple[float, float, float, float, int]:
    """(seconds per step, build seconds, per-step first third, per-step last third, n_oems)."""
    t0 = time.perf_counter()
    model = build(count, weeks)
    t1 = time.perf_counter()
    third = weeks // 3
    marks = []
    gc.collect()
    start = time.perf_counter()
    model.run_for(third)
    marks.append(time.perf_counter())
    model.run_for(weeks - 2 * third)
    marks.append(time.perf_counter())
    model.run_for(third)
    end = time.perf_counter()
    assert model.steps == weeks
    return (
        (end - start) / weeks,
        t1 - t0,
        (marks[0] - start) / third,
        (end - marks[1]) / third,
        len(model.oems),
    )


def profile_run(count: int, weeks: int) -> pstats.Stats:
    model = build(count, weeks)
    profiler = cProfile.Profile()
    profiler.enable()
    model.run_for(weeks)
    profiler.disable()
    return pstats.Stats(profiler)


def _key(func: tuple) -> str:
    """'package/module.py:line(name)' for a pstats key."""
    file, line, name = func
    parts = Path(file).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else file
    return f"{short}:{line}({name})"


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    small = args.small
    weeks = 52 if small else 156
    repeats = args.repeats or (2 if small else 3)
    header("per-step cost vs number of OEM agents", small)
    build(2, 2).run_for(2)  # warm-up: imports, scenario cache
    per_step = {c: Series(f"count={c}", "ms/step") for c in SIZES}
    extra: dict[int, list[tuple[float, float, float]]] = {c: [] for c in SIZES}
    n_oems = {}
    loads: list[float] = []
    for i in range(repeats):
        for count in SIZES:
            with OtherLoad() as load:
                step_s, build_s, first, last, n = timed_run(count, weeks)
            loads.append(load.pct)
            n_oems[count] = n
            per_step[count].values.append(step_s * 1000)
            extra[count].append((build_s * 1000, first * 1000, last * 1000))
        print(
            f"   repeat {i + 1}: "
            + ", ".join(f"{n_oems[c]} OEMs {per_step[c].values[-1]:.3f} ms/step" for c in SIZES)
            + f" (other load {max(loads[-2:]):.0f}%)",
            flush=True,
        )
    print(f"\n   {weeks} weeks per run; model construction excluded from the per-step time")
    for count in SIZES:
        print(f"  {n_oems[count]:>5} OEMs: " + per_step[count].line("{:.3f}"))
        b, f, last = (min(x[j] for x in extra[count]) for j in range(3))
        print(
            f"         build {b:.0f} ms; per step first third {f:.3f} ms, last third {last:.3f} ms"
        )
    small_c, large_c = SIZES
    agent_ratio = n_oems[large_c] / n_oems[small_c]
    ratio = per_step[large_c].best / per_step[small_c].best
    exponent = math.log(ratio) / math.log(agent_ratio)
    print(
        f"\n   agents x{agent_ratio:.1f} -> per-step time x{ratio:.2f} "
        f"(scaling exponent {exponent:.2f}; 1 = linear, 2 = quadratic)"
    )

    print(
        "\n   cProfile, one run each: functions whose own time grows most (top 10 by time at 1,001)"
    )
    stats = {c: profile_run(c, weeks) for c in SIZES}
    big = stats[large_c].stats  # type: ignore[attr-defined]
    little = stats[small_c].stats  # type: ignore[attr-defined]
    top = sorted(big.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    print(f"   {'function':<58} {'tottime L':>10} {'tottime S':>10} {'ratio':>7} {'calls L/S':>10}")
    for func, (_, nc, tt, _ct, _) in top:
        s = little.get(func)
        s_tt, s_nc = (s[2], s[1]) if s else (float("nan"), 0)
        t_ratio = tt / s_tt if s_tt else float("nan")
        n_ratio = nc / s_nc if s_nc else float("nan")
        print(
            f"   {_key(func)[:58]:<58} {tt:>9.3f}s {s_tt:>9.3f}s {t_ratio:>6.1f}x {n_ratio:>9.1f}x"
        )
    print()
    verdict(f"per-step time {n_oems[large_c]} / {n_oems[small_c]} OEMs", ratio, 12.0, "<=")
    footer()


if __name__ == "__main__":
    main()
