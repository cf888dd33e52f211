"""MagnetSupplyModel: the rare-earth magnet supply shock of April 2025, week by week.

On 4 April 2025 China's Ministry of Commerce put seven medium/heavy rare earths and the
magnets containing them under export licensing (MOFCOM/GAC Announcement No. 18). This Mesa
model lets a user compare licence-granting policies on the Chinese side and domestic ramp-up
on the Indian side (IREL plus entrants under an incentive scheme) against the production of
Indian and Japanese vehicle makers.

Weekly schedule (ODD "process overview"), one step = one week:

1. makers produce to order: Chinese makers (home and export books), non-Chinese makers
   (after buying Dy/Tb, within their Dy/Tb stock), IREL (oxide); the scheme awards plants in
   its award week; domestic plants advance, buy oxide, produce;
2. buyers (OEMs and aggregate destinations, random order): receive shipments, use magnets,
   cancel orders above their ceiling, order up to their target from named sellers (each
   order needing a licence gets an application: per shipment or per contract); firms short
   of magnets ask for assembled motors, which Chinese motor makers ship from China's home
   stock up to the channel's capacity, and third-country traders sell on licensed magnets at
   a risk of detection (:mod:`simulation.channels`);
3. the licensing authority revokes, drops moot applications and decides due ones under the
   policy in force, up to its shared capacity;
4. the market clears: every maker ships from its book in priority order as stock and
   licences allow; uncontrolled grades to controlled destinations wait in customs for
   identification; Indian plants sell to Indian buyers' uncovered need (the scheme pays
   its incentive on those sales);
5. prices move towards their excess-demand targets (:mod:`simulation.prices`); non-Chinese
   makers decide capacity expansions from their expected margins; ledgers and data are
   collected.

This module builds the model and runs the week; the parts it calls live beside it:
:mod:`simulation.clearing` (step 4), :mod:`simulation.incentive` (the scheme's tender and
payments) and :mod:`simulation.reporters` (what is recorded, and the flow ledgers).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from mesa import Model
from mesa.agent import AgentSet
from mesa.experimental.scenarios import Scenario as MesaScenario

import agents as _agents_package
from simulation.scenario_io import REPO_ROOT

if Path(_agents_package.__file__).resolve().parent.parent != REPO_ROOT:
    # "agents" is also the import name of a popular PyPI package; say so instead of failing
    # later with a confusing ImportError.
    raise ImportError(
        f"magshock's 'agents' package is shadowed by {_agents_package.__file__}; "
        "uninstall the other package or use a separate virtual environment"
    )

from agents import (
    IREL,
    OEM,
    ChineseExporter,
    DomesticProducer,
    LicensingAuthority,
    RegionalBuyer,
    RestOfWorldSupplier,
)
from agents.buyer import MagnetBuyer
from agents.exporter import HOME
from agents.seller import MagnetSeller
from simulation import reporters
from simulation.channels import Channel, ChannelTerms
from simulation.clearing import Market
from simulation.errors import validate_scenario
from simulation.incentive import IncentiveScheme
from simulation.market import GRADES, allocate_pro_rata
from simulation.overrides import apply_overrides
from simulation.policies import LicencePolicy, policy_from_config
from simulation.prices import PriceBoard
from simulation.scenario import Scenario
from simulation.scenario_io import load_scenario


class RunScenario(MesaScenario):
    """Mesa's ``scenario`` slot for this model: carries the magshock :class:`Scenario`.

    ``model.scenario`` is a ``RunScenario`` whose ``spec`` is the validated (frozen) magshock
    scenario and whose ``rng`` is the run's seed, so Mesa tools that rebuild a model from
    ``type(model.scenario)(...)`` (SolaraViz Reset) get the same scenario back:
    :meth:`for_spec` makes a subclass whose default ``spec`` is that scenario.
    """

    spec: Scenario | None = None

    @classmethod
    def for_spec(cls, spec: Scenario) -> type[RunScenario]:
        """A RunScenario class whose instances default to ``spec``."""
        return type(cls.__name__, (cls,), {"__annotations__": {"spec": "Scenario"}, "spec": spec})


class MagnetSupplyModel(Model):
    """Agent-based model of the 2025 rare-earth magnet export controls and their fallout.

    Args:
        scenario: a validated :class:`Scenario`, a scenario file path or library name, a
            Mesa scenario (a :class:`RunScenario`, or a plain ``mesa`` Scenario whose
            parameters are read as flat overrides), or None for the embedded default
            (``baseline_2025``). The magshock scenario is never changed by the model; it is
            ``model.spec`` and ``model.scenario.spec``.
        rng: seed (int) or numpy Generator; None uses the Mesa scenario's ``rng``, else the
            scenario's ``simulation.seed``. A numeric string (as typed into a browser seed
            box) is accepted.
        collect_agent_data: also record per-OEM state each week (memory-heavy; off in batch).
        columns: record only these weekly reporters (``week`` and ``date`` always), e.g.
            :func:`simulation.kpis.kpi_columns` when only KPIs are wanted: the lean path of
            sweeps that keep no steps. None records every reporter (interactive use, the
            browser). The model itself runs the same either way.
        **overrides: flat scenario overrides, e.g. ``licensing_policy="ban"``,
            ``approval_probability=0.3``, ``subsidy_usd_per_kg=20`` (see
            :func:`simulation.overrides.apply_overrides`).

    Example:
        >>> model = MagnetSupplyModel(rng=7, licensing_policy="ban", weeks=20)
        >>> model.run_for(20)
        >>> int(model.datacollector.get_model_vars_dataframe()["licences_approved"].sum())
        0
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        rng: int | str | np.random.Generator | None = None,
        collect_agent_data: bool = False,
        columns: Collection[str] | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(scenario, MesaScenario):
            params = {k: v for k, v in scenario.__dict__.items() if k not in ("rng", "model")}
            spec_in = params.pop("spec", None)
            if rng is not None and scenario.rng is not None and rng != scenario.rng:
                raise ValueError("rng and scenario.rng must be the same")  # as Mesa's Model
            rng = scenario.rng if rng is None else rng
            scenario, overrides = spec_in, {**params, **overrides}
        spec = _resolve_scenario(scenario, overrides)
        if isinstance(rng, str):
            rng = int(rng.strip())
        if rng is None:
            rng = spec.simulation.seed
        # _scenario_id given: Mesa's per-class id counter would otherwise keep every one of
        # these per-run classes (and its spec) alive for the life of a sweep worker.
        super().__init__(scenario=RunScenario.for_spec(spec)(rng=rng, _scenario_id=0))
        self.spec: Scenario = spec
        # Firm attributes drawn from spreads (simulation.spread) use their own child stream
        # of the run's SeedSequence, so a spread never shifts the licence lottery.
        self.firm_rng: np.random.Generator = self.rng.spawn(1)[0]
        self.week = -1
        self.horizon_weeks = spec.simulation.weeks
        self.collect_agent_data = collect_agent_data
        self.market = Market(self)
        # Run state that levers may change mid-run; the scenario itself stays as validated.
        self.incentive = IncentiveScheme(self)
        self.redesign_spent_usd = 0.0
        self.redesigns_started = 0
        self.oxide_imported_t = 0.0
        self._build_agents()
        m = spec.market
        self.motor_channel = Channel(
            self,
            ChannelTerms(
                "motor",
                (HOME,),
                m.motor_channel_t_per_week,
                m.motor_lead_time_weeks,
                m.motor_premium_usd_per_kg,
            ),
            self.rng.spawn(1)[0],
        )
        self.transit_route = Channel(
            self,
            ChannelTerms(
                "transit",
                tuple(m.transit_origins),
                m.transit_route_t_per_week,
                m.transit_lead_time_weeks,
                m.transit_premium_usd_per_kg,
                m.transit_detection_probability,
            ),
            self.rng.spawn(1)[0],
        )
        self.prices = PriceBoard(self)
        self._buyer_set = AgentSet(self.buyers, random=self.random)
        self.flows: dict[str, float] = dict.fromkeys(reporters.FLOWS, 0.0)
        self._stat_keys = reporters.aggregate_keys(spec)
        self.stats: dict[str, float] = dict.fromkeys(self._stat_keys, 0.0)
        self._aggregate = reporters.Aggregator(self._stat_keys)
        self.datacollector = reporters.WeeklyCollector(
            self._stat_keys,
            agenttype_reporters=reporters.agent_reporters() if collect_agent_data else None,
            columns=columns,
        )

    # ------------------------------------------------------------------ construction
    def _build_agents(self) -> None:
        spec = self.spec
        policy = spec.licensing.model_copy(deep=True)
        policy.resolve_dates(spec.simulation.start_date)  # for this run's start date
        self.authority = LicensingAuthority(self, policy)
        for cfg in spec.exporters:
            ChineseExporter(self, **cfg.model_dump())
        for cfg in spec.rest_of_world:
            fields = cfg.model_dump()
            day = fields.pop("non_china_dytb_from_date")
            RestOfWorldSupplier(
                self,
                **fields,
                non_china_dytb_from_week=0 if day is None else max(0, spec.week_of(day)),
            )
        self.irel = IREL(
            self,
            capacity_steps=[(0, spec.irel.capacity_t_oxide_per_year), *spec.irel_capacity_steps()],
            strategic_reserve_share=spec.irel.strategic_reserve_share,
        )
        for cfg in spec.domestic_producers:
            DomesticProducer(self, **cfg.model_dump())
        self._sellers: list[MagnetSeller] = [
            *self._of_type(ChineseExporter),
            *self._of_type(RestOfWorldSupplier),
        ]
        exporters = list(self.agents_by_type[ChineseExporter])
        weights = np.array([e.capacity_t_per_week for e in exporters], dtype=float)
        weights = (
            weights / weights.sum()
            if weights.sum() > 0
            else np.full(len(exporters), 1 / len(exporters))
        )
        all_china = [(e, float(w)) for e, w in zip(exporters, weights, strict=True)]
        buyers: list[MagnetBuyer] = []
        for cfg in spec.oems:
            choices = self.rng.choice(len(exporters), size=cfg.count, p=weights)
            firms = cfg.firm_values(self.firm_rng)
            for index, firm in zip(choices, firms, strict=True):
                oem = OEM(self, cfg, firm)
                oem.connect([(exporters[int(index)], 1.0)], self._row_for(oem.country))
                buyers.append(oem)
        for cfg in spec.buyers:
            fields = cfg.model_dump()
            day = fields.pop("reference_date")
            buyer = RegionalBuyer(
                self,
                name=fields.pop("name"),
                reference_week=0 if day is None else spec.week_of(day),
                **fields,
            )
            china = all_china if buyer.china_share > 0 or buyer.country == HOME else []
            buyer.connect(china, [] if buyer.country == HOME else self._row_for(buyer.country))
            buyers.append(buyer)
        self._regional_buyers: list[RegionalBuyer] = self._of_type(RegionalBuyer)
        self._buyers: list[MagnetBuyer] = [*self.oems, *self._regional_buyers]
        expected: dict[int, dict[str, float]] = {}
        for buyer in buyers:
            for seller_id, by_grade in buyer.expected_sales().items():
                row = expected.setdefault(seller_id, {})
                for grade, tonnes in by_grade.items():
                    row[grade] = row.get(grade, 0.0) + tonnes
        for seller in self.sellers:
            seller.expect(expected.get(seller.unique_id, {}))

    def _row_for(self, country: str) -> list[tuple[RestOfWorldSupplier, float]]:
        """Non-Chinese makers a buyer in ``country`` sources from, weighted by capacity.

        Makers holding contracts with ``country`` if any (C-JP-1, C-JP-2); else the makers
        without contract countries; else all.
        """
        makers = self.row_suppliers
        pool = [m for m in makers if country in m.contract_countries]
        pool = pool or [m for m in makers if not m.contract_countries] or makers
        return [(m, m.capacity_t_per_week) for m in pool]

    # ------------------------------------------------------------------ accessors
    @property
    def oems(self):
        """All OEM agents (an AgentSet)."""
        return self.agents_by_type[OEM]

    @property
    def exporters(self):
        """All Chinese exporters (an AgentSet)."""
        return self.agents_by_type[ChineseExporter]

    @property
    def regional_buyers(self) -> list[RegionalBuyer]:
        """Aggregate destination buyers (list, read-only; may be empty)."""
        return self._regional_buyers

    @property
    def buyers(self) -> list[MagnetBuyer]:
        """Every buyer: OEMs, then aggregate destinations (list, read-only)."""
        return self._buyers

    @property
    def sellers(self) -> list[MagnetSeller]:
        """Every maker with an order book: Chinese exporters, then non-Chinese makers.

        A list, read-only: buyers and makers are all built with the model (only domestic
        plants are added later, by the scheme's award).
        """
        return self._sellers

    def _of_type(self, cls: type) -> list:
        return list(self.agents_by_type[cls]) if cls in self.agents_by_type else []

    @property
    def domestic_producers(self) -> list[DomesticProducer]:
        """All domestic magnet makers (list; may be empty)."""
        return self._of_type(DomesticProducer)

    @property
    def row_suppliers(self) -> list[RestOfWorldSupplier]:
        """All rest-of-world makers (list; may be empty)."""
        return self._of_type(RestOfWorldSupplier)

    @property
    def date(self):
        """Calendar date of the current week (the start date before the first step)."""
        return self.spec.simulation.start_date + timedelta(weeks=max(self.week, 0))

    def set_policy(self, policy: LicencePolicy | dict[str, Any] | str) -> None:
        """Switch the licence policy from the next review on (e.g. from the browser)."""
        if isinstance(policy, str):
            policy = {"kind": policy}
        policy = policy_from_config(policy)
        policy.resolve_dates(self.spec.simulation.start_date)
        self.authority.set_policy(policy)

    def set_incentive(self, **changes: Any) -> None:
        """Change the domestic scheme's terms from the next week on (e.g. browser levers).

        The scenario (``self.spec``) is not touched: the scheme keeps its own validated copy
        in ``self.incentive.terms``. ``ramp_weeks`` also applies to awarded plants not yet
        ramping.

        Raises:
            ValueError: an unknown field, one fixed at the start of the run, or a value out
                of the field's range (pydantic's ValidationError is a ValueError).
        """
        self.incentive.set_terms(**changes)

    def set_cover_target_weeks(self, weeks: float) -> None:
        """Set every OEM's inventory cover target, weeks (0-52; raises the ceiling if needed).

        Raises:
            ValueError: ``weeks`` is not a finite number in [0, 52].
        """
        if isinstance(weeks, bool) or not isinstance(weeks, int | float) or not 0 <= weeks <= 52:
            raise ValueError(f"cover_target_weeks = {weeks!r}: allowed 0 to 52 weeks")
        for oem in self.oems:
            oem.cover_target_weeks = float(weeks)
            oem.max_cover_weeks = max(oem.max_cover_weeks, float(weeks))

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance one week (see the module docstring for the schedule)."""
        self.week = self.steps - 1
        week = self.week
        self.authority.start_week()
        self.incentive.start_week()
        self.market.start_week()
        for seller in self._sellers:
            seller.start_week()
        self.produce_supply(week)
        self._buyer_set.shuffle_do("step")
        oems = self.oems
        self.motor_channel.ship(week, {o: o.motor_request() for o in oems})
        self.transit_route.ship(week, {o: {"controlled": o.transit_request_t} for o in oems})
        self.authority.review(week, {s.unique_id: s for s in self.sellers})
        self.market.clear(week)
        self.prices.update()
        for supplier in self.row_suppliers:
            supplier.invest(week)
        reporters.account_flows(self)
        self.stats = self._aggregate(self)
        self.datacollector.collect(self)
        if week + 1 >= self.horizon_weeks:
            self.running = False

    def produce_supply(self, week: int) -> None:
        """Chinese and non-Chinese makers, IREL and domestic plants make this week's supply."""
        for exporter in self.exporters:
            exporter.make()
        for supplier in self.row_suppliers:
            supplier.produce(week)
        self.irel.produce(week)
        if week == self.incentive.award_week:
            self.incentive.award(week)
        ratio = self.spec.market.magnet_t_per_oxide_t
        producers = self.domestic_producers
        for producer in producers:
            producer.advance(week)
        requests = {p: p.oxide_request_t(week, ratio) for p in producers}
        from_irel = self.irel.sell(requests)
        residual = {p: requests[p] - from_irel[p] for p in producers}
        imports = allocate_pro_rata(self.spec.market.oxide_import_t_per_week, residual)
        self.oxide_imported_t = sum(imports.values())
        import_price = self.prices.india_import_usd_per_kg
        abroad_price = self.prices.ex_china_usd_per_kg
        for producer in producers:
            price = producer.realised_price_usd_per_kg(import_price, abroad_price)
            producer.receive_oxide(from_irel[producer] + imports[producer])
            producer.produce(week, ratio)
            producer.review_margin(price, self.incentive.usd_per_kg(producer))

    def record_redesign_start(self, oem: OEM) -> None:
        """Count a redesign project and its cost (called by the OEM that starts it)."""
        self.redesigns_started += 1
        self.redesign_spent_usd += oem.project_cost_usd

    def magnet_stock_t(self, grade: str | None = None) -> float:
        """Magnet tonnes held anywhere (of one grade, or all).

        Makers' and plants' stocks, consignments held by customs or in transit, buyers' stocks.
        """
        grades = GRADES if grade is None else (grade,)
        held = sum(s.stock_t[g] for s in self.sellers for g in grades)
        held += sum(b.stock_t[g] + b.in_transit_t(g) for b in self.buyers for g in grades)
        if "controlled" in grades:
            held += sum(p.stock_t for p in self.domestic_producers)
        return held

    def oxide_stock_t(self) -> float:
        """All oxide tonnes held: IREL's stock and the plants' oxide stocks."""
        return self.irel.stock_t + sum(p.oxide_stock_t for p in self.domestic_producers)


# ---------------------------------------------------------------------- helpers


def _resolve_scenario(
    scenario: Scenario | str | Path | None, overrides: dict[str, Any]
) -> Scenario:
    if scenario is None or isinstance(scenario, (str, Path)):
        return load_scenario(scenario, **overrides)
    if overrides:
        raw = scenario.model_dump(mode="python", serialize_as_any=True)
        new = validate_scenario(apply_overrides(raw, overrides), scenario.name)
        new._sources = scenario.sources
        return new
    return scenario
