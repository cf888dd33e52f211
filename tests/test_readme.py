"""The README's examples run as written: documentation that cannot rot."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quick_start_is_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quick, flags=re.DOTALL)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "magshock sweep experiments/policy_vs_rampup.toml" in commands[0]
    assert "pytest" in commands[1]
    # the default selection skips slow tests; the README (and so CI) must select them all
    assert '-m "slow or not slow"' in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "grep -E '^\\$\\{PYTHON:-python3\\} .*pip install .*\\[test\\].* pytest' README.md" in ci


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(index, monkeypatch):
    monkeypatch.chdir(REPO)
    exec(
        compile(blocks("python")[index], f"README.md python block {index}", "exec"),
        {"__name__": "readme"},
    )


def usage_commands() -> list[str]:
    usage = README.split("## Usage", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", usage, flags=re.DOTALL)
    return [
        line.split("#")[0].strip() for line in block.splitlines() if line.startswith("magshock")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("command", usage_commands())
def test_usage_commands_run(command, tmp_path):
    args = shlex.split(command)[1:]
    if args[0] == "validate":  # the README names a user's file: check a library one instead
        args = ["validate", "experiments/scenarios/case_by_case.toml"]
    if args[0] == "run":
        if "--out" in args:
            args[args.index("--out") + 1] = str(tmp_path / "out")
        else:
            args += ["--out", str(tmp_path / "out")]
    exe = Path(sys.executable).with_name("magshock")
    proc = subprocess.run([str(exe), *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_readme_levers_change_the_outcome():
    from simulation import load_scenario, simulate

    def kpi(name, key, **overrides):
        return simulate(load_scenario(name, **overrides), rng=1).kpis[key]

    strict = kpi(
        "case_by_case",
        "lost_production_pct__IN",
        approval_probability=0.3,
        review_capacity_per_week=2,
    )
    assert strict > kpi("case_by_case", "lost_production_pct__IN") + 5
    # a smaller subsidy closes the cost gap for fewer bidders: fewer plants, more lost output
    assert kpi("fast_domestic_rampup", "lost_production_pct__IN", subsidy_usd_per_kg=15) > kpi(
        "fast_domestic_rampup", "lost_production_pct__IN"
    )


def test_readme_experiment_example_is_a_valid_experiment(tmp_path):
    from experiments.design import load_experiment

    (block,) = [b for b in blocks("toml") if "replications" in b]
    path = tmp_path / "readme_experiment.toml"
    path.write_text(block.replace('"scenarios/baseline_2025.toml"', '"baseline_2025"'))
    design = load_experiment(path)
    assert len(design.points) == 2 * 2 * 3
    assert design.experiment.replications == 20


def test_readme_entry_point_example_registers_the_python_example():
    import tomllib

    (block,) = [b for b in blocks("toml") if "entry-points" in b]
    registered = tomllib.loads(block)["project"]["entry-points"]["magshock.policies"]
    (python,) = [b for b in blocks("python") if "class Lottery" in b]
    assert registered == {"lottery": "mypackage.policies:Lottery"}
    assert 'kind: Literal["lottery"]' in python
