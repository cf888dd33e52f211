"""China's licensing authority (MOFCOM): a review queue worked through under a licence policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from simulation.policies import Application, Licence, LicencePolicy

if TYPE_CHECKING:
    from agents.exporter import ChineseExporter


class LicensingAuthority(Agent):
    """Takes export-licence applications, reviews them in filing order, issues licences.

    Each week it decides, oldest first, the applications whose review delay has passed, up to
    the policy's review capacity; approvals become :class:`Licence` objects held by the exporter.

    Args:
        model: the model.
        policy: the licence policy in force (possibly a :class:`simulation.policies.Timeline`).
    """

    def __init__(self, model, policy: LicencePolicy) -> None:
        super().__init__(model)
        self.policy = policy
        self._cached: tuple[int, LicencePolicy, LicencePolicy] | None = None
        self.queue: list[Application] = []
        self._pending_by_buyer: dict[int, int] = {}
        self._next_id = 0
        self.filed = 0
        self.approved = 0
        self.denied = 0
        self.approved_t = 0.0
        self.waits_weeks: list[int] = []
        self.licences_issued_total = 0
        self.approved_by_country: dict[str, int] = {}
        self.approved_this_week_by_country: dict[str, int] = {}

    def set_policy(self, policy: LicencePolicy) -> None:
        """Switch policy from the next review on (pending applications stay queued)."""
        self.policy = policy
        self._cached = None

    def in_force(self, week: int) -> LicencePolicy:
        """The policy in force in ``week`` (a timeline's phase), looked up once per week."""
        cached = self._cached
        if cached is None or cached[0] != week or cached[1] is not self.policy:
            cached = self._cached = (week, self.policy, self.policy.active(week))
        return cached[2]

    def requires_licence(self, destination: str, week: int) -> bool:
        """Whether exports to ``destination`` need a licence in ``week``."""
        return self.in_force(week).requires_licence(destination, week)

    def has_pending(self, buyer_id: int) -> bool:
        """Whether ``buyer_id`` has an application waiting."""
        return self._pending_by_buyer.get(buyer_id, 0) > 0

    def file(
        self,
        exporter: ChineseExporter,
        buyer_id: int,
        destination: str,
        end_use: str,
        tonnes: float,
        week: int,
    ) -> Application:
        """Queue an application; its earliest decision week is drawn from the policy now."""
        app = Application(
            id=self._next_id,
            exporter_id=exporter.unique_id,
            buyer_id=buyer_id,
            destination=destination,
            end_use=end_use,
            tonnes=tonnes,
            filed_week=week,
        )
        self._next_id += 1
        app.earliest_decision_week = week + self.in_force(week).draw_delay_weeks(
            app, week, self.model.rng
        )
        self.queue.append(app)
        self._pending_by_buyer[buyer_id] = self._pending_by_buyer.get(buyer_id, 0) + 1
        self.filed += 1
        return app

    def start_week(self) -> None:
        """Reset this week's counters."""
        self.filed = 0
        self.approved = 0
        self.denied = 0
        self.approved_t = 0.0
        self.waits_weeks = []
        self.approved_this_week_by_country = {}

    def review(self, week: int, exporters: dict[int, ChineseExporter]) -> None:
        """Decide due applications in filing order, at most the policy's capacity this week.

        Applications for destinations that no longer need a licence are withdrawn (moot).
        """
        policy = self.in_force(week)
        moot = [a for a in self.queue if not policy.requires_licence(a.destination, week)]
        for app in moot:
            self._pending_by_buyer[app.buyer_id] -= 1
        if moot:
            self.queue = [a for a in self.queue if policy.requires_licence(a.destination, week)]
        capacity = policy.review_capacity(week)
        due = [
            a for a in self.queue if a.earliest_decision_week <= week and not policy.holds(a, week)
        ]
        batch = due if capacity is None else due[:capacity]
        if not batch:
            return
        policy.begin_review(batch, week)
        decided = set()
        for app in batch:
            decision = policy.decide(app, week, self.model.rng)
            decided.add(app.id)
            self._pending_by_buyer[app.buyer_id] -= 1
            self.waits_weeks.append(week - app.filed_week)
            if decision.approved:
                self.approved += 1
                self.approved_t += decision.approved_tonnes
                self.licences_issued_total += 1
                for tally in (self.approved_by_country, self.approved_this_week_by_country):
                    tally[app.destination] = tally.get(app.destination, 0) + 1
                exporters[app.exporter_id].add_licence(
                    Licence(
                        app.buyer_id, decision.approved_tonnes, week + decision.validity_weeks - 1
                    )
                )
            else:
                self.denied += 1
        self.queue = [a for a in self.queue if a.id not in decided]
