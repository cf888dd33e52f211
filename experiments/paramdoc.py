"""Generate docs/PARAMETERS.md from the scenario schema (name, unit, default, range, source).

The table is derived from the pydantic models, never written by hand: ``magshock parameters``
rewrites it and a test fails when the committed file drifts from the schema.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simulation.policies import CountryTerms, LicencePolicy, Phase
from simulation.scenario import (
    BuyerConfig,
    CapacityStep,
    CustomsConfig,
    DomesticProducerConfig,
    ExporterConfig,
    IncentiveConfig,
    IRELConfig,
    MarketConfig,
    OEMConfig,
    RestOfWorldConfig,
    SimulationConfig,
)
from simulation.spread import number_metadata

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("[simulation]", SimulationConfig),
    ("[market]", MarketConfig),
    ("[customs]", CustomsConfig),
    ("[[exporters]]", ExporterConfig),
    ("[[oems]]", OEMConfig),
    ("[[buyers]]", BuyerConfig),
    ("[irel]", IRELConfig),
    ("[[irel.expansions]]", CapacityStep),
    ("[incentive]", IncentiveConfig),
    ("[[domestic_producers]]", DomesticProducerConfig),
    ("[[rest_of_world]]", RestOfWorldConfig),
]

UNITS = [  # (name suffix, unit) - first match wins
    ("_t_per_week_per_year", "t/week per year"),
    ("_t_per_week_per_week", "t/week per week"),
    ("_share_per_year", "share per year"),
    ("_kg_per_t_controlled", "kg Dy+Tb per t magnet"),
    ("_t_oxide_per_year", "t REO/yr"),
    ("_t_per_week", "t/week"),
    ("_t_per_year", "t/yr"),
    ("_t_per_period", "t per period"),
    ("_usd_per_kg", "USD/kg"),
    ("_inr_crore", "INR crore"),
    ("_usd", "USD"),
    ("_kg_per_vehicle", "kg/vehicle"),
    ("_vehicles_per_week", "vehicles/week"),
    ("_working_days", "working days"),
    ("_per_week", "per week"),
    ("_weeks", "weeks"),
    ("_week", "week index"),
    ("_date", "date"),
    ("_share", "share 0-1"),
    ("_probability", "probability"),
    ("_rate", "fraction per doubling"),
    ("_multiple", "x pre-shock price"),
    ("_elasticity", "dimensionless"),
    ("_per_oxide_t", "t magnet per t REO"),
]

SOURCE = re.compile(r"C-[A-Z]+-\d+|SF-\d|DERIVED|UNSOURCED|assumption|DESIGN")


EXACT_UNITS = {
    "weeks": "weeks",
    "inr_per_usd": "INR/USD",
    "count": "firms",
    "max_pending_orders": "orders per seller",
    "licence_scope": "shipment or contract",
}


def unit_of(name: str) -> str:
    """Unit implied by a parameter's name (our naming convention carries units)."""
    if name in EXACT_UNITS:
        return EXACT_UNITS[name]
    for suffix, unit in UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _range(field: Any) -> str:
    low = high = None
    lo_sym, hi_sym = "[", "]"
    for meta in number_metadata(field):
        if isinstance(meta, annotated_types.Ge):
            low = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            low, lo_sym = meta.gt, "("
        elif isinstance(meta, annotated_types.Le):
            high = meta.le
        elif isinstance(meta, annotated_types.Lt):
            high, hi_sym = meta.lt, ")"
    if low is None and high is None:
        return ""
    return f"{lo_sym}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_sym}"


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel | list | dict):
        return "see below" if value else "none"
    if isinstance(value, date):
        return value.isoformat()
    return "none" if value is None else f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(model: type[BaseModel]) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if name == "kind":
            continue
        description = field.description or ""
        sources = ", ".join(dict.fromkeys(SOURCE.findall(description))) or "-"
        rows.append(
            f"| `{name}` | {unit_of(name) or '-'} | {_default(field)} | {_range(field) or '-'} "
            f"| {sources} | {_cell(description)} |"
        )
    return rows


HEADER = (
    "| parameter | unit | default | allowed range | source | description |\n"
    "|---|---|---|---|---|---|"
)


GENERATED_MARK = "Generated from the scenario schema by `magshock parameters`"


def parameters_markdown() -> str:
    """The whole PARAMETERS.md text."""
    out = [
        "# Parameters",
        "",
        f"{GENERATED_MARK} - do not edit by hand (a "
        "test fails when this file drifts from the code). Sources are ids in "
        "`CALIBRATION.md` (`C-...`, `SF-...`); `assumption` marks a value nobody here could "
        "source; `DERIVED` is arithmetic on sourced figures. Values in "
        "`experiments/scenarios/baseline_2025.toml` override these defaults and cite their "
        "sources line by line.",
        "",
    ]
    for title, model in SECTIONS:
        out += [f"## {title}", "", (model.__doc__ or "").strip().splitlines()[0], "", HEADER]
        out += _rows(model)
        out.append("")
    out += [
        "## [licensing]",
        "",
        "`kind` selects the policy; a timeline lists `[[licensing.phases]]`, each with "
        "`start_week` or `start_date` and a `policy` table. Before the first phase the open "
        "(pre-April-2025) regime applies.",
        "",
    ]
    for kind, cls in sorted(LicencePolicy.registry.items()):
        if not cls.__module__.startswith("simulation.policies."):
            continue
        out += [f'### kind = "{kind}"', "", (cls.__doc__ or "").strip().splitlines()[0], ""]
        rows = _rows(cls)
        out += [HEADER, *rows, ""] if rows else ["No parameters.", ""]
    for title, model in (
        ("[[licensing.phases]]", Phase),
        ("countries.XX (case_by_case, quota, preferential)", CountryTerms),
    ):
        out += [f"### {title}", "", HEADER, *_rows(model), ""]
    return "\n".join(out).rstrip() + "\n"
