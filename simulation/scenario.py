"""Scenario schema: the pydantic models of one complete parameter set.

A scenario is one complete parameter set. Every field carries its unit in its name or
description, and every default cites ``CALIBRATION.md`` (``C-…`` ids) or says "assumption".
Reading files (``extends`` chains, the scenario library) is :mod:`simulation.scenario_io`,
flat keyword overrides are :mod:`simulation.overrides` and the one-line error messages
(file, key, problem, allowed range) are :mod:`simulation.errors`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from simulation.policies import (
    LicencePolicy,
    policy_from_config,
    refuse_bools_for_numbers,
    week_of,
)
from simulation.spread import Spread, check_spread, draw, drawn

NAME_RULE = "1-100 letters, digits, '_', '-' or '.', not starting with '.' or '-'"
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def check_name(value: str) -> str:
    """Return ``value`` if it is a safe single folder name (:data:`NAME_RULE`).

    Scenario and experiment names become folders under ``results/``: a name with a path
    separator, ``..``, a leading dot or a control character could write elsewhere or hide.

    Raises:
        ValueError: naming the rule (not echoing the value, which may hold control characters).
    """
    if not _NAME_RE.fullmatch(value):
        raise ValueError(f"must be {NAME_RULE} (it names a folder under results/)")
    return value


def default_name(stem: str) -> str:
    """A safe name made from a file name: other characters become ``_`` (see :func:`check_name`)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".-")[:100] or "unnamed"


SafeName = Annotated[str, AfterValidator(check_name)]


class _Section(BaseModel):
    # Frozen: a validated scenario never changes (its sha256 identifies a run); run-time
    # changes (browser levers) live on the model (MagnetSupplyModel.set_incentive ...).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)


class SimulationConfig(_Section):
    """Clock and seed of a run."""

    start_date: date = Field(
        date(2025, 4, 7),
        ge=date(1900, 1, 1),
        le=date(2199, 12, 31),
        description="Calendar date of week 0 (first Monday after C-LIC-1).",
    )
    weeks: int = Field(156, ge=1, le=1040, description="Horizon, weeks (DESIGN: 156 = 3 years).")
    seed: int = Field(
        42, ge=0, le=2**63 - 1, description="Default random seed when none is given (assumption)."
    )
    line_stop_threshold_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A firm's line counts as stopped below this share of plan (assumption).",
    )


class MarketConfig(_Section):
    """Prices and conversion factors shared by all agents."""

    china_price_usd_per_kg: float = Field(
        60.0,
        gt=0,
        le=10_000,
        description="Pre-shock Chinese NdFeB magnet export price, USD/kg (assumption; "
        "NdPr oxide ~54 USD/kg in 2024, C-MKT-4).",
    )
    scarcity_price_elasticity: float = Field(
        0.5,
        ge=0,
        le=10,
        description="Target price rise per unit of excess demand (demand/supply over its "
        "opening ratio, less 1), share of the base price (dimensionless; assumption).",
    )
    price_adjustment_per_week: float = Field(
        0.1,
        gt=0,
        le=1,
        description="Share of the gap to its target a price closes each week (partial "
        "adjustment; 0.1 = half-life 6.6 weeks), 1/week (assumption).",
    )
    price_smoothing_per_week: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Weight of the latest week in the smoothed demand and supply flows "
        "prices respond to, 1/week (assumption).",
    )
    compliance_premium_share: float = Field(
        0.05,
        ge=0,
        le=10,
        description="Chinese export price premium on exports needing a licence (documents, "
        "delays), share of China's home price (assumption; C-LIC-3 lists the documents).",
    )
    price_expectation_per_week: float = Field(
        1 / 26,
        gt=0,
        le=1,
        description="Weight of the latest week in expected prices (adaptive expectations; "
        "1/26 = a half-year memory), 1/week (assumption).",
    )
    limit_pricing_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chinese limit pricing against India's scheme plants: while any is "
        "ramping or operating, exports to India are priced this share below the lowest "
        "entrant's unit cost, if that is lower (0 = off; assumption).",
    )
    sourcing_elasticity: float = Field(
        2.0,
        ge=0,
        le=20,
        description="Elasticity of substitution between Chinese and non-Chinese magnets in "
        "a buyer's target sourcing share, on delivered cost = price / availability relative "
        "to the opening state (Armington form; 0 = fixed shares), dimensionless "
        "(assumption).",
    )
    supplier_switching_per_week: float = Field(
        1 / 52,
        ge=0,
        le=1,
        description="Share of the gap to its target sourcing share a buyer closes each week "
        "(qualifying a new magnet supplier takes months; 1/52 = half-life 35.7 weeks; "
        "calibrated to C-LIC-5 in history_2025), "
        "1/week (assumption).",
    )
    availability_smoothing_per_week: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Weight of the latest week in a buyer's availability of each source "
        "(tonnes shipped to it over tonnes it planned to buy there), 1/week (assumption).",
    )
    domestic_exports: bool = Field(
        True,
        description="Whether India's scheme plants sell abroad (to buyers outside India and "
        "China) what Indian buyers do not take (assumption; the scheme's 6,000 t/yr exceeds "
        "India's own need, C-PLI-2, C-PLI-3).",
    )
    max_price_discount_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Most China's home price can fall below the pre-shock price when "
        "supply exceeds demand, share (assumption).",
    )
    max_price_multiple: float = Field(
        4.0,
        ge=1,
        le=20,
        description="Sanity bound on every price, multiple of the pre-shock Chinese price; "
        "a calibrated run should not reach it (C-MKT-5: Tb oxide up to ~4x in Europe).",
    )
    inr_per_usd: float = Field(
        85.0, gt=0, le=10_000, description="Exchange rate, INR per USD (assumption)."
    )
    magnet_t_per_oxide_t: float = Field(
        3.0, gt=0, le=10, description="Tonnes of magnet per tonne of REO (C-MKT-6)."
    )
    oxide_import_t_per_week: float = Field(
        1.0,
        ge=0,
        le=100_000,
        description="Non-IREL oxide India's magnet makers can import, t/week (assumption).",
    )
    licence_scope: Literal["shipment", "contract"] = Field(
        "shipment",
        description="Applications are filed per shipment (one per order) or per contract "
        "(one per buyer and exporter, covering licence_request_weeks of need) (C-LIC-3: per "
        "shipment in practice).",
    )
    order_expiry_weeks: int = Field(
        26,
        ge=1,
        le=520,
        description="Weeks an unfilled order stays open (orders waiting for a licence "
        "decision do not expire), weeks (assumption).",
    )
    dytb_kg_per_t_controlled: float = Field(
        30.0,
        ge=0,
        le=200,
        description="Dy+Tb in controlled grades, kg per t of magnet (assumption: ~3% in "
        "high-coercivity grades; uncontrolled grades hold <= 1 kg/t, C-LIC-4, counted as 0).",
    )
    motor_channel_t_per_week: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Magnet content Chinese motor makers can ship a week inside assembled "
        "motors and sub-assemblies to foreign vehicle makers, outside magnet licensing "
        "(C-IN-4, C-IN-7: the route was used; its size is an assumption; 0 = closed), t/week.",
    )
    motor_lead_time_weeks: int = Field(
        8,
        ge=0,
        le=104,
        description="Weeks from a motor order to its arrival at the firm (assembly and "
        "shipping), weeks (assumption).",
    )
    motor_premium_usd_per_kg: float = Field(
        100.0,
        ge=0,
        le=10_000,
        description="Price of an imported motor above its magnets' price, per kg of magnet "
        "it holds (assembly, freight, duty), USD/kg (assumption).",
    )
    transit_route_t_per_week: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Controlled-grade magnets traders in licensed third countries "
        "(``transit_origins``) can sell on a week against the licences' no-re-export "
        "condition (C-LIC-6; no source reports Indian firms using such a route, so 0 = "
        "closed in the shipped scenarios), t/week (assumption).",
    )
    transit_origins: tuple[str, ...] = Field(
        ("VN",),
        description="Countries whose licensed importers supply the third-country route "
        "(assumption: Vietnam, a licensed destination, C-LIC-5).",
    )
    transit_lead_time_weeks: int = Field(
        4,
        ge=0,
        le=104,
        description="Weeks from a third-country purchase to its arrival, weeks (assumption).",
    )
    transit_premium_usd_per_kg: float = Field(
        150.0,
        ge=0,
        le=10_000,
        description="Trader's price above the magnet price on the third-country route, USD/kg "
        "(assumption).",
    )
    transit_detection_probability: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Chance a third-country consignment is detected and stopped; the firm "
        "then loses the route, share 0-1 (assumption).",
    )


class CustomsConfig(_Section):
    """China's customs identification of uncontrolled grades under the controls (C-LIC-10)."""

    identification_t_per_week: float = Field(
        100_000.0,
        ge=0,
        le=100_000,
        description="Uncontrolled-grade exports customs can identify in the first week of "
        "the controls, t/week (assumption, calibrated to C-LIC-5; 100,000 = no hold).",
    )
    identification_growth_t_per_week_per_week: float = Field(
        0.0,
        ge=0,
        le=100_000,
        description="Weekly growth of that capacity as customs learn the procedure, "
        "t/week per week (assumption, calibrated to C-LIC-5).",
    )
    identification_weeks: int = Field(
        0,
        ge=0,
        le=52,
        description="Shortest hold for identification (Dy/Tb test, ICP-MS), weeks (C-LIC-10; "
        "duration assumption).",
    )


class ExporterConfig(_Section):
    """A Chinese magnet exporter (the export-relevant slice of its output)."""

    name: str = Field(min_length=1, description="Label used in outputs.")
    capacity_t_per_week: float = Field(
        ge=0,
        le=100_000,
        description="Magnet output, t/week (assumption; sized to the modelled buyers).",
    )
    initial_stock_weeks: float = Field(
        2.0, ge=0, le=52, description="Opening stock, weeks of expected sales (assumption)."
    )
    target_stock_weeks: float = Field(
        2.0,
        ge=0,
        le=52,
        description="Safety stock the maker produces for, weeks of expected sales (assumption).",
    )
    lead_time_weeks: int = Field(
        3, ge=1, le=26, description="Shipping time to buyers, weeks (assumption)."
    )
    max_held_weeks: float = Field(
        4.0,
        ge=0,
        le=52,
        description="Most stock held for buyers whose licences are pending, weeks of "
        "expected sales (assumption).",
    )


class BuyerConfig(_Section):
    """An aggregate destination: all magnet users of a country or region as one buyer."""

    name: str = Field(min_length=1, description="Label used in outputs.")
    country: str = Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO code of the destination (XE = rest of the EU, XX = rest of the "
        "world, CN = China's home market).",
    )
    demand_t_per_week: float = Field(
        ge=0, le=100_000, description="Magnet use at full output at the reference date, t/week."
    )
    reference_date: date | None = Field(
        None, description="Date at which demand equals demand_t_per_week (default: start)."
    )
    growth_share_per_year: float = Field(
        0.0,
        ge=-0.5,
        le=1,
        description="Yearly demand growth, share (C-MKT-8: exports +10% in 2024).",
    )
    controlled_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the mixed line's magnet mass in controlled (Dy/Tb) grades "
        "(all of it when free_only_share = 0; assumption).",
    )
    free_only_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of magnet demand used in products that need only uncontrolled "
        "grades (consumer electronics, e-bikes, small motors; the free-only line keeps "
        "ordering and producing without controlled grades), share (assumption; C-LIC-4, "
        "C-LIC-10).",
    )
    china_share: float = Field(
        0.9, ge=0, le=1, description="Share bought from Chinese makers (assumption)."
    )
    initial_inventory_weeks: float = Field(
        4.0, ge=0, le=52, description="Opening stock, weeks of need (C-IN-7: 2-6 weeks)."
    )
    cover_target_weeks: float = Field(
        4.0, ge=0, le=52, description="Cover aimed for, weeks of need (C-IN-7: 2-6 weeks)."
    )
    max_cover_weeks: float = Field(
        12.0,
        ge=0,
        le=104,
        description="Cover above which open orders are cancelled, weeks (assumption).",
    )
    licence_patience_weeks: float = Field(
        9.0,
        gt=0,
        le=104,
        description="Weeks an order waits for a licence before the buyer orders again "
        "(C-LIC-2: 45 working days = 9 weeks).",
    )
    licence_request_weeks: float = Field(
        26.0,
        gt=0,
        le=104,
        description="Weeks of need one contract application covers (licence_scope = "
        "'contract'; assumption, C-LIC-3).",
    )
    max_pending_orders: int = Field(
        52,
        ge=1,
        le=1000,
        description="Orders that may wait for a licence at once with one exporter (an "
        "aggregate buyer stands for many firms; assumption).",
    )
    end_use: str = Field("industrial", description="End use declared on licence applications.")

    @model_validator(mode="after")
    def _cover_in_range(self) -> BuyerConfig:
        if self.cover_target_weeks > self.max_cover_weeks:
            raise ValueError("cover_target_weeks must not exceed max_cover_weeks")
        return self


#: OEM attributes a group may give as a distribution (:mod:`simulation.spread`).
DRAWN_OEM_FIELDS = (
    "size_weight",
    "magnet_kg_per_vehicle",
    "initial_inventory_weeks",
    "cover_target_weeks",
    "china_share",
    "controlled_share",
    "free_only_share",
    "engineering_slots",
)


class OEMConfig(_Section):
    """A group of vehicle makers of one country and segment (``count`` firms).

    Attributes typed ``drawn(...)`` take a number (every firm alike) or a
    :class:`simulation.spread.Spread` that each firm draws from (``firm_values``).
    """

    name: str = Field(min_length=1, description="Group label used in outputs.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO code: IN, JP, ...")
    segment: str = Field(min_length=1, description="Segment: car_ice, car_ev, e2w, e3w, hybrid ...")
    count: int = Field(
        1,
        ge=1,
        le=100_000,
        description="Number of firms (agents) in the group (default 1, assumption).",
    )
    planned_vehicles_per_week: float = Field(
        ge=0,
        le=10_000_000,
        description="Group production plan, vehicles/week (split across firms in "
        "proportion to their size_weight).",
    )
    size_weight: drawn(gt=0, le=1000) = Field(
        1.0,
        description="A firm's relative size: its share of the group plan is its weight over "
        "the group's sum (dimensionless; 1 = an even split, assumption).",
    )
    magnet_kg_per_vehicle: drawn(gt=0, le=100) = Field(
        description="NdFeB magnet per vehicle, kg (C-IN-3)."
    )
    initial_inventory_weeks: drawn(ge=0, le=52) = Field(
        2.5,
        description="Opening magnet stock, weeks of need (C-IN-2: 2-3 weeks in India).",
    )
    cover_target_weeks: drawn(ge=0, le=52) | None = Field(
        None,
        description="Inventory cover aimed for, weeks (C-IN-2); default: the firm's own "
        "opening stock weeks (a firm aims for the cover it keeps; assumption).",
    )
    max_cover_weeks: float = Field(
        12.0, ge=0, le=104, description="Ceiling on stockpiling, weeks (assumption)."
    )
    stockpile_raise_weeks: float = Field(
        2.0, ge=0, le=52, description="Cover added after each shortage episode, weeks (assumption)."
    )
    anticipation_weeks: float = Field(
        4.0,
        ge=0,
        le=52,
        description="Cover added once when a licence requirement for the firm's country is "
        "announced or expected (a timeline phase's announced_weeks_ahead): buying ahead, "
        "weeks (assumption).",
    )
    china_share: drawn(ge=0, le=1) = Field(
        0.93,
        description="Share of magnets ordered from China when it can ship (C-IN-1: 93% for India).",
    )
    controlled_share: drawn(ge=0, le=1) = Field(
        1.0,
        description="Share of the magnet mass per vehicle in controlled (Dy/Tb) grades; the "
        "rest is in uncontrolled grades (low-HREE, C-LIC-4), ordered and stocked alike but "
        "never licensed (default 1.0 = all controlled, assumption).",
    )
    free_only_share: drawn(ge=0, le=1) = Field(
        0.0,
        description="Share of the firm's output whose magnet parts need only uncontrolled "
        "grades (low-HREE motors and actuators, C-LIC-4) at the opening; the rest is built "
        "with both grades in the controlled_share mix, share 0-1 (assumption).",
    )
    vehicle_price_usd: float = Field(
        10_000.0,
        gt=0,
        le=10_000_000,
        description="Price of one vehicle, USD: with the magnet content it sets how much of "
        "a magnet price rise reaches the vehicle price (full pass-through; assumption).",
    )
    demand_price_elasticity: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Fall in the firm's sales plan per unit relative rise of its vehicle "
        "price (constant elasticity; 0 = plans ignore magnet prices), dimensionless "
        "(assumption).",
    )
    plan_horizon_weeks: float = Field(
        3.0,
        ge=0,
        le=52,
        description="Weeks ahead a firm checks that its firm magnet position (stock, in "
        "transit, orders not waiting for a licence) covers its plan; when it does not, it "
        "announces a cut to the rate that position supports over these weeks (0 = no "
        "announced cuts: build what stock allows), weeks (assumption; C-JP-3: a stop of "
        "weeks, not a long slow-down, so a short horizon; 4 weeks or more removes SF-3's "
        "stop).",
    )
    recovery_margin_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Output above plan (overtime, extra shifts) a firm can run to build "
        "deferred vehicles, share of plan (assumption).",
    )
    max_deferral_weeks: int = Field(
        13,
        ge=0,
        le=520,
        description="Weeks a vehicle not built waits in the deferred backlog before its "
        "buyer walks away and it is lost (0 = every shortfall is lost), weeks (assumption).",
    )
    engineering_slots: drawn(ge=0, le=20) = Field(
        1.0,
        description="Redesign projects the firm can run at once, its engineering capacity "
        "(a drawn value is rounded down; 0 = the firm never redesigns), projects "
        "(assumption).",
    )
    project_share: float = Field(
        0.04,
        ge=0,
        le=1,
        description="Share of the firm's output one redesign project moves to a new motor "
        "technology (one model or motor family), share 0-1 (assumption, calibrated to C-IN-5 "
        "in history_2025: substitution at most ~10% of demand a year; 0.045 exceeds it).",
    )
    low_hree_lag_weeks: int = Field(
        26,
        ge=0,
        le=520,
        description="Weeks from starting a grade switch (motors redesigned for low-HREE, "
        "uncontrolled grades) to its first qualified vehicle, weeks (C-IN-5: light-rare-earth "
        "magnets pursued; lag assumption).",
    )
    low_hree_max_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Most of the firm's output that can run on uncontrolled grades only "
        "(opening free_only_share included), share 0-1 (assumption: high-temperature "
        "traction motors need Dy/Tb, C-LIC-4).",
    )
    low_hree_extra_usd_per_vehicle: float = Field(
        0.0,
        ge=0,
        le=1e6,
        description="Extra cost of a vehicle with a low-HREE motor (more magnet mass or "
        "cooling for the same torque), USD/vehicle (assumption).",
    )
    magnet_free_lag_weeks: int = Field(
        52,
        ge=0,
        le=520,
        description="Weeks from starting a ferrite or magnet-free motor project to its first "
        "qualified vehicle, weeks (C-IN-5: TVS and Ola targeted Q3 2025 for announced "
        "projects; lag assumption).",
    )
    magnet_free_max_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Most of the firm's output that can use ferrite or magnet-free motors, "
        "share 0-1 (assumption; C-IN-5).",
    )
    magnet_free_extra_usd_per_vehicle: float = Field(
        0.0,
        ge=0,
        le=1e6,
        description="Extra cost of a vehicle with a ferrite or magnet-free motor (heavier, "
        "less efficient), before the NdFeB it no longer buys, USD/vehicle (assumption).",
    )
    motor_import_max_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Largest share of the mixed line's magnet need the firm can take as "
        "imported assembled motors or sub-assemblies (C-IN-4, C-IN-7: hub and traction "
        "motors, steering units; share assumption; 0 = none), share 0-1.",
    )
    transit_max_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Largest share of its controlled-grade need the firm buys through a "
        "third-country route while its Chinese orders are blocked (C-LIC-6 no-re-export "
        "condition; assumption; 0 = never), share 0-1.",
    )
    workaround_qualify_weeks: int = Field(
        12,
        ge=0,
        le=520,
        description="Weeks short (cumulative) before the firm has found a Chinese motor "
        "supplier or a third-country trader and uses them, weeks (assumption).",
    )
    project_cost_usd: float = Field(
        2.0e6,
        ge=0,
        le=1e11,
        description="One-off engineering and qualification cost of one redesign project, USD "
        "(assumption).",
    )
    margin_share: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Contribution margin of a vehicle, share of its price: what a vehicle "
        "not built costs the firm, share 0-1 (assumption).",
    )
    payback_weeks: float = Field(
        104.0,
        gt=0,
        le=520,
        description="Weeks of qualified output over which a redesign project must pay back "
        "its cost, weeks (assumption).",
    )
    licence_request_weeks: float = Field(
        26.0,
        gt=0,
        le=104,
        description="Weeks of China need covered by one contract application (assumption; "
        "C-LIC-3).",
    )
    licence_patience_weeks: float = Field(
        9.0,
        gt=0,
        le=104,
        description="Weeks an order waits for a licence before the firm orders again "
        "(C-LIC-2: 45 working days = 9 weeks).",
    )
    end_use: str = Field("automotive", description="End use declared on licence applications.")

    _spreads_in_range = field_validator(*DRAWN_OEM_FIELDS, mode="after")(
        lambda cls, value, info: check_spread(value, cls.model_fields[info.field_name])
    )

    @model_validator(mode="after")
    def _cover_in_range(self) -> OEMConfig:
        cover = self.cover_target_weeks
        highest = cover.high if isinstance(cover, Spread) else cover
        if highest is not None and highest > self.max_cover_weeks:
            raise ValueError("cover_target_weeks must not exceed max_cover_weeks")
        return self

    @property
    def cover_target(self) -> float | Spread:
        """The cover the group's firms aim for: as given, else their opening stock weeks."""
        if self.cover_target_weeks is None:
            return self.initial_inventory_weeks
        return self.cover_target_weeks

    def firm_values(self, rng: np.random.Generator) -> list[dict[str, float]]:
        """Each firm's own attributes, drawn in firm order (field order within a firm).

        Returns one dict per firm with every ``drawn`` attribute as a number, the firm's
        ``planned_vehicles_per_week`` (the group plan x its size weight over the group's sum)
        and ``cover_target_weeks`` (its opening stock weeks unless the group sets one).
        Nothing is drawn for numbers or zero-width spreads.
        """
        firms = []
        for _ in range(self.count):
            values = {
                name: draw(getattr(self, name), rng)
                for name in DRAWN_OEM_FIELDS
                if getattr(self, name) is not None
            }
            values.setdefault("cover_target_weeks", values["initial_inventory_weeks"])
            firms.append(values)
        total = sum(f["size_weight"] for f in firms)
        for values in firms:
            values["planned_vehicles_per_week"] = (
                self.planned_vehicles_per_week * values["size_weight"] / total
            )
        return firms


class CapacityStep(_Section):
    """A capacity level that applies from a given week or date."""

    online_week: int | None = Field(
        None, ge=0, le=1040, description="Week the capacity is reached."
    )
    online_date: date | None = Field(None, description="Date the capacity is reached.")
    capacity_t_oxide_per_year: float = Field(
        ge=0, le=1_000_000, description="Capacity from then on, t REO/yr."
    )

    @model_validator(mode="after")
    def _one_start(self) -> CapacityStep:
        if (self.online_week is None) == (self.online_date is None):
            raise ValueError("give exactly one of online_week or online_date")
        return self


class IRELConfig(_Section):
    """IREL (India) Ltd: rare-earth oxide for domestic magnet makers after strategic needs."""

    capacity_t_oxide_per_year: float = Field(
        40.0,
        ge=0,
        le=1_000_000,
        description="NdPr oxide output at start, t/yr (C-IRL-2: ~40 t last year).",
    )
    expansions: list[CapacityStep] = Field(
        default_factory=lambda: [
            CapacityStep(online_date=date(2026, 3, 31), capacity_t_oxide_per_year=200.0),
            CapacityStep(online_date=date(2027, 3, 31), capacity_t_oxide_per_year=500.0),
        ],
        description="Capacity steps (C-IRL-2: 200 t by end-FY26, 500 t by end-FY27).",
    )
    strategic_reserve_share: float = Field(
        0.3, ge=0, le=1, description="Share kept for atomic energy/defence (C-IRL-3: assumption)."
    )


class IncentiveConfig(_Section):
    """India's sintered-magnet scheme (PLI-style): awards, sales-linked subsidy, budget."""

    enabled: bool = Field(True, description="Whether the scheme runs.")
    award_week: int | None = Field(
        None, ge=0, le=1040, description="Week of the awards (or award_date)."
    )
    award_date: date | None = Field(
        date(2026, 9, 30),
        description="Date of awards (C-PLI-3: bids due 29 Jun 2026; award "
        "date UNSOURCED, assumption).",
    )
    subsidy_usd_per_kg: float = Field(
        25.0,
        ge=0,
        le=500,
        description="Sales-linked incentive, USD/kg (DERIVED from C-PLI-1/2: "
        "Rs 6,450 cr over 5 yr x 6,000 t/yr at 85 INR/USD).",
    )
    sales_budget_inr_crore: float = Field(
        6450.0, ge=0, le=10_000_000, description="Sales-incentive budget, INR crore (C-PLI-1)."
    )
    capital_subsidy_inr_crore: float = Field(
        750.0,
        ge=0,
        le=10_000_000,
        description="Capital subsidy, INR crore, paid at award: 1/n_awards per plant (C-PLI-1).",
    )
    incentive_weeks: int = Field(
        260,
        ge=0,
        le=1040,
        description="Weeks incentives are paid after gestation (C-PLI-3: 5 years).",
    )
    gestation_weeks: int = Field(
        104,
        ge=0,
        le=520,
        description="Weeks from award before incentive payments start (C-PLI-3: 2 years).",
    )
    capacity_target_t_per_year: float = Field(
        6000.0, ge=0, le=1_000_000, description="Scheme capacity, t/yr (C-PLI-2)."
    )
    n_awards: int = Field(5, ge=0, le=100, description="Beneficiaries (C-PLI-2).")
    award_capacity_t_per_year: float = Field(
        1200.0, gt=0, le=1_000_000, description="Nameplate per award, t/yr (C-PLI-2)."
    )
    n_bidders: int = Field(
        8, ge=0, le=1000, description="Bidders in the global tender (assumption)."
    )
    bidder_cost_min_usd_per_kg: float = Field(
        70.0,
        gt=0,
        le=10_000,
        description="Lowest bidder unit cost at start, USD/kg (assumption; C-RMP-3).",
    )
    bidder_cost_max_usd_per_kg: float = Field(
        110.0,
        gt=0,
        le=10_000,
        description="Highest bidder unit cost, USD/kg (assumption; C-RMP-3).",
    )
    entry_margin_share: float = Field(
        0.1,
        ge=0,
        le=5,
        description="A bidder enters if its subsidised cost is within this share above the "
        "expected import price (the expected Chinese export price at the award; assumption).",
    )
    exit_after_weeks: int = Field(
        26,
        ge=1,
        le=1040,
        description="A scheme plant closes after this many weeks in a row in which the import "
        "price plus the incentive it earns is below its unit cost, weeks (assumption).",
    )
    learning_reference_t: float = Field(
        1200.0,
        gt=0,
        le=1_000_000,
        description="Cumulative output at which a plant's learning starts, t (assumption: one "
        "year of a 1,200 t/yr scheme plant, C-PLI-2, so a pilot line cannot learn its way "
        "below the industry after a few tonnes).",
    )
    build_weeks: int = Field(
        104, ge=0, le=520, description="Construction time, weeks (C-RMP-1, C-PLI-3: ~2 years)."
    )
    ramp_weeks: int = Field(
        52, ge=0, le=520, description="S-curve ramp to nameplate, weeks (C-RMP-1: ~1 year)."
    )
    yield_share: float = Field(
        0.72, gt=0, le=1, description="Good magnet per tonne processed (C-MKT-7: scrap 25-30%)."
    )
    learning_rate: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Unit-cost fall per doubling of output (C-RMP-3: UNSOURCED, assumption).",
    )

    @model_validator(mode="after")
    def _checks(self) -> IncentiveConfig:
        if self.award_week is not None and self.award_date is not None:
            # An explicit week wins: a file that extends one with a date may set the week.
            self.__dict__["award_date"] = None
        if self.bidder_cost_max_usd_per_kg < self.bidder_cost_min_usd_per_kg:
            raise ValueError("bidder_cost_max_usd_per_kg must be >= bidder_cost_min_usd_per_kg")
        return self


class DomesticProducerConfig(_Section):
    """A named Indian magnet maker outside the tender (e.g. IREL's Vizag plant)."""

    name: str = Field(min_length=1, description="Label used in outputs.")
    nameplate_t_per_year: float = Field(
        ge=0, le=1_000_000, description="Nameplate capacity, t magnet/yr."
    )
    stage: Literal["planned", "building", "ramping", "operating"] = Field(
        "operating", description="Stage at week 0."
    )
    start_week: int = Field(
        0,
        ge=0,
        le=1040,
        description="Week the stage at week 0 began or begins: building starts then for "
        "'planned'; a 'building' or 'ramping' plant counts its build or ramp from it "
        "(default 0, assumption).",
    )
    build_weeks: int = Field(104, ge=0, le=520, description="Construction, weeks (C-RMP-1).")
    ramp_weeks: int = Field(52, ge=0, le=520, description="Ramp to nameplate, weeks (C-RMP-1).")
    yield_share: float = Field(0.72, gt=0, le=1, description="Good output share (C-MKT-7).")
    unit_cost_usd_per_kg: float = Field(
        90.0, gt=0, le=10_000, description="Unit cost at start, USD/kg (assumption; C-RMP-3)."
    )
    learning_rate: float = Field(
        0.1, ge=0, lt=1, description="Cost fall per doubling (assumption)."
    )
    learning_reference_t: float = Field(
        1200.0,
        gt=0,
        le=1_000_000,
        description="Cumulative output at which learning starts, t (assumption: one year of a "
        "scheme plant, C-PLI-2).",
    )
    subsidised: bool = Field(
        False,
        description="Whether sales earn the scheme's incentive (from the scheme's award week "
        "plus gestation, like tender plants).",
    )


class RestOfWorldConfig(_Section):
    """A non-Chinese magnet maker (Japan, EU, US, Lynas-fed) selling to every destination."""

    name: str = Field(min_length=1, description="Label used in outputs.")
    country: str = Field(
        "XX", pattern=r"^[A-Z]{2}$", description="The maker's country (ISO code; XX = other)."
    )
    capacity_t_per_week: float = Field(
        ge=0, le=100_000, description="Output capacity at start, t/week (assumption; C-JP-5)."
    )
    growth_t_per_week_per_year: float = Field(
        0.0,
        ge=0,
        le=100_000,
        description="Yearly capacity growth, t/week per year (assumption; C-RMP-2).",
    )
    premium_usd_per_kg: float = Field(
        20.0,
        ge=0,
        le=10_000,
        description="Premium over the Chinese price, USD/kg (C-MKT-3: 10-30).",
    )
    lead_time_weeks: int = Field(6, ge=1, le=26, description="Delivery time, weeks (assumption).")
    contract_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list,
        description="Destinations whose contracts it serves first; buyers there source from "
        "it (C-JP-1, C-JP-2, C-JP-5).",
    )
    initial_stock_weeks: float = Field(
        2.0, ge=0, le=52, description="Opening stock, weeks of expected sales (assumption)."
    )
    target_stock_weeks: float = Field(
        2.0, ge=0, le=52, description="Safety stock, weeks of expected sales (assumption)."
    )
    dytb_cover_weeks: float = Field(
        12.0,
        ge=0,
        le=520,
        description="Dy/Tb stock held and aimed for, weeks of use (assumption).",
    )
    dytb_china_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of its Dy/Tb bought from China (C-JP-5: 100% for Japan's makers).",
    )
    non_china_dytb_t_per_week: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Dy/Tb from non-Chinese sources once available, t/week (assumption; C-JP-2).",
    )
    non_china_dytb_from_date: date | None = Field(
        None, description="First day non-Chinese Dy/Tb is available (C-JP-2: May 2025)."
    )
    capacity_response_share: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Capacity aimed for per unit of expected margin above the hurdle: target "
        "capacity = capacity x (1 + this x excess margin), dimensionless (calibrated to "
        "C-RMP-2 in episode_2010; 0 = no investment).",
    )
    investment_hurdle_share: float = Field(
        0.05,
        ge=0,
        le=10,
        description="Expected price above list needed before any expansion, share of the list "
        "price (assumption).",
    )
    price_expectation_per_week: float = Field(
        1 / 26,
        gt=0,
        le=1,
        description="Weight of the latest price in the expected price (adaptive "
        "expectations; 1/26 = a half-year memory), 1/week (assumption).",
    )
    expansion_build_weeks: int = Field(
        104, ge=0, le=1040, description="Time to build an expansion, weeks (C-RMP-1: ~2 years)."
    )
    expansion_ramp_weeks: int = Field(
        52, ge=0, le=1040, description="S-curve ramp of an expansion, weeks (C-RMP-1: ~1 year)."
    )


class Scenario(BaseModel):
    """One complete, validated parameter set for :class:`simulation.model.MagnetSupplyModel`.

    Immutable once validated (frozen): derive a variant with
    :func:`simulation.scenario_io.load_scenario` overrides or
    ``MagnetSupplyModel(scenario, **overrides)``, never by assignment.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SafeName = Field("unnamed", description=f"Short scenario name ({NAME_RULE}).")
    description: str = Field("", description="One-line description.")
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    market: MarketConfig = Field(default_factory=MarketConfig)
    licensing: LicencePolicy = Field(
        default_factory=lambda: policy_from_config({"kind": "open"}),
        description="Licence policy (a table with kind = open|ban|case_by_case|quota|"
        "preferential|timeline, or a kind registered under the magshock.policies entry points).",
    )
    customs: CustomsConfig = Field(default_factory=CustomsConfig)
    exporters: list[ExporterConfig] = Field(min_length=1)
    oems: list[OEMConfig] = Field(min_length=1)
    buyers: list[BuyerConfig] = Field(
        default_factory=list,
        description="Aggregate destinations (the EU, US, Korea, China's home market, other).",
    )
    irel: IRELConfig = Field(default_factory=IRELConfig)
    incentive: IncentiveConfig = Field(default_factory=IncentiveConfig)
    domestic_producers: list[DomesticProducerConfig] = Field(default_factory=list)
    rest_of_world: list[RestOfWorldConfig] = Field(default_factory=list)

    _sources: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    @field_validator("licensing", mode="before")
    @classmethod
    def _build_policy(cls, value: Any) -> LicencePolicy:
        return policy_from_config(value)

    @model_validator(mode="after")
    def _resolve_timeline(self) -> Scenario:
        try:
            self.licensing.resolve_dates(self.simulation.start_date)
        except ValueError as err:
            raise ValueError(f"licensing: {err}") from None
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        for section in ("exporters", "oems", "buyers", "domestic_producers", "rest_of_world"):
            names = [item.name for item in getattr(self, section)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{section}: names must be unique, repeated: {', '.join(dupes)}")
        return self

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(path, verbatim text) of each file this scenario was built from, base files last."""
        return list(self._sources)

    def sha256(self) -> str:
        """Hash of the validated content (stable across file formatting)."""
        return hashlib.sha256(self.model_dump_json(serialize_as_any=True).encode()).hexdigest()

    def week_of(self, day: date) -> int:
        """Week index of a calendar date in this scenario (week 0 = start_date)."""
        return week_of(day, self.simulation.start_date)

    def incentive_award_week(self) -> int | None:
        """Week the scheme awards capacity, or None if the scheme is off."""
        inc = self.incentive
        if not inc.enabled:
            return None
        if inc.award_week is not None:
            return inc.award_week
        if inc.award_date is not None:
            return max(0, self.week_of(inc.award_date))
        return None

    def irel_capacity_steps(self) -> list[tuple[int, float]]:
        """IREL capacity steps as (week, t REO/yr), sorted by week."""
        steps = []
        for step in self.irel.expansions:
            week = step.online_week
            if week is None:
                week = max(0, self.week_of(step.online_date))
            steps.append((week, step.capacity_t_oxide_per_year))
        return sorted(steps)
