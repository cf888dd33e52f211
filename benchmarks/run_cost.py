"""Per-run cost of this tree vs a reference commit (issue [2 of 6]: the closed market).

``simulate(load_scenario(name), rng=seed)`` for ``baseline_2025`` and ``history_2025``, seeds
1..N (default 10 each), runs in one child process per tree: this tree, and the reference
commit (default ``d688f6e``, the commit before issue [2 of 6]) checked out with
``git worktree add`` into a temporary folder, removed at the end. Each child imports magshock
from its own tree (checked), makes one warm-up run, then times the loop of 2N runs, as CPU
time of the process (``time.process_time``: on this shared 2-core machine other users' load
inflates wall time far more than CPU time) and as wall time. Children alternate (reference,
ours, reference, ours, ...) for R repeats; the best CPU time of each tree gives ms per run,
and the verdict compares the two. Each child also hashes every weekly
table; ``--same-output`` makes identical outputs a second verdict (for refactors such as the
split of simulation/model.py, measured with ``--ref d688f6e --target 1.02 --same-output``).

Target (issue [2 of 6]): ours / reference <= 1.5 for the closed market against the commit
before the issue, as it adds every destination, China's home market and order books.

    .venv/bin/python benchmarks/run_cost.py [--small] [--repeats N] [--ref COMMIT] [--seeds N]
        [--target RATIO] [--same-output] [--scenario history_2025]
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, Series, footer, header, parse_args, run_quiet, verdict

SCENARIOS = ("baseline_2025", "history_2025")
TARGET_RATIO = 1.5


def child(tree: str, seeds: int, scenarios: tuple[str, ...] = SCENARIOS) -> None:
    """Time ``simulate`` over the scenarios and seeds with magshock imported from ``tree``."""
    sys.path.insert(0, tree)
    import pandas as pd

    import simulation
    from simulation.run import simulate
    from simulation.scenario_io import load_scenario

    specs = [load_scenario(name) for name in scenarios]
    simulate(specs[0], rng=0)  # warm-up
    digest = hashlib.sha256()
    start, cpu_start = time.perf_counter(), time.process_time()
    for spec in specs:
        for seed in range(1, seeds + 1):
            steps = simulate(spec, rng=seed).steps
            digest.update(pd.util.hash_pandas_object(steps, index=True).to_numpy().tobytes())
    cpu_seconds, seconds = time.process_time() - cpu_start, time.perf_counter() - start
    print(
        json.dumps(
            {
                "cpu_seconds": cpu_seconds,
                "seconds": seconds,
                "runs": len(specs) * seeds,
                "sha256": digest.hexdigest(),
                "module": simulation.__file__,
            }
        )
    )


def measure(tree: Path, seeds: int, scenarios: tuple[str, ...] = SCENARIOS) -> dict:
    """One child run for ``tree``; its JSON line, with the noise note added."""
    m = run_quiet([sys.executable, __file__, "--child", str(tree), str(seeds), *scenarios])
    result = json.loads(m.stdout.strip().splitlines()[-1])
    if not Path(result["module"]).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"child for {tree} imported magshock from {result['module']}")
    result["noise"] = m.noise
    return result


def main() -> None:
    def extra(parser) -> None:
        parser.add_argument("--ref", default="d688f6e", help="reference commit (before [2 of 6])")
        parser.add_argument("--target", type=float, default=TARGET_RATIO, help="ratio to meet")
        parser.add_argument(
            "--same-output", action="store_true", help="also require identical weekly tables"
        )
        parser.add_argument("--seeds", type=int, default=None, help="seeds per scenario")
        parser.add_argument(
            "--scenario",
            action="append",
            choices=SCENARIOS,
            help="time only this scenario (repeatable; default: both)",
        )

    args = parse_args(__doc__.splitlines()[0], extra)
    seeds = args.seeds or (2 if args.small else 10)
    repeats = args.repeats or (2 if args.small else 5)
    scenarios = tuple(args.scenario or SCENARIOS)
    header(f"per-run cost: this tree vs {args.ref}", args.small)
    with tempfile.TemporaryDirectory(prefix="magshock-cost-") as tmp:
        ref_tree = Path(tmp) / "ref"
        git = ["git", "-C", str(REPO)]
        subprocess.run([*git, "worktree", "add", "--detach", str(ref_tree), args.ref], check=True)
        try:
            trees = {args.ref: ref_tree, "this tree": REPO}
            cpu = {label: Series(f"{label}, CPU", "ms/run") for label in trees}
            wall = {label: Series(f"{label}, wall", "ms/run") for label in trees}
            hashes: dict[str, set[str]] = {label: set() for label in trees}
            print(f"   {seeds} seeds x {', '.join(scenarios)}, {repeats} repeats, alternating")
            for _ in range(repeats):
                for label, tree in trees.items():
                    r = measure(tree, seeds, scenarios)
                    cpu[label].values.append(1000 * r["cpu_seconds"] / r["runs"])
                    wall[label].values.append(1000 * r["seconds"] / r["runs"])
                    hashes[label].add(r["sha256"])
                    print(
                        f"   {label:<10} CPU {cpu[label].values[-1]:6.1f} ms/run, "
                        f"wall {wall[label].values[-1]:6.1f} ms/run  ({r['noise']})"
                    )
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(ref_tree)], check=False)
    print()
    for s in (*cpu.values(), *wall.values()):
        print("   " + s.line("{:.1f}"))
    ref, ours = cpu[args.ref], cpu["this tree"]
    same = len(hashes[args.ref] | hashes["this tree"]) == 1
    print(f"   weekly tables identical across trees and repeats: {same}")
    print(f"   CPU median ratio (this tree / {args.ref}): {ours.median / ref.median:.3f}")
    verdict(f"CPU per run, this tree / {args.ref} (best)", ours.best / ref.best, args.target, "<=")
    if args.same_output:
        verdict("identical outputs", float(same), 1.0, ">=", "")
    footer()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), tuple(sys.argv[4:]) or SCENARIOS)
    else:
        main()
