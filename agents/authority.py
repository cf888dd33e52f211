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
        self.filed_by_destination: dict[str, int] = {}
        self.decided_by_destination: dict[str, int] = {}
        self.approved_by_destination: dict[str, int] = {}
        self.approved_t_by_destination: dict[str, float] = {}

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

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Whether exports to ``destination`` need a licence in ``week``."""
        return self.in_force(week).requires_licence(destination, week, product)

    def extraterritorial(self, week: int) -> bool:
        """Whether non-Chinese makers' controlled grades need a Chinese licence."""
        return self.in_force(week).extraterritorial(week)

    def usable(self, licence: Licence, week: int) -> bool:
        """Whether ``licence`` may be used in ``week``."""
        return (
            licence.remaining_t > 1e-12
            and licence.issued_week <= week <= licence.expires_week
            and licence.revoked_week is None
            and not self.in_force(week).suspends(licence.destination, week)
        )

    def pending_count(self, buyer_id: int) -> int:
        """Applications waiting for ``buyer_id``."""
        return self._pending_by_buyer.get(buyer_id, 0)

    def file(
        self,
        applicant: ChineseExporter,
        buyer_id: int,
        destination: str,
        end_use: str,
        tonnes: float,
        week: int,
        *,
        product: str = "magnet",
        order_id: int | None = None,
    ) -> Application:
        """Queue an application; its earliest decision week is drawn from the policy now."""
        app = Application(
            id=self._next_id,
            applicant_id=applicant.unique_id,
            buyer_id=buyer_id,
            destination=destination,
            end_use=end_use,
            tonnes=tonnes,
            filed_week=week,
            product=product,
            order_id=order_id,
        )
        self._next_id += 1
        app.earliest_decision_week = week + self.in_force(week).draw_delay_weeks(
            app, week, self.model.rng
        )
        self.queue.append(app)
        self._pending_by_buyer[buyer_id] = self._pending_by_buyer.get(buyer_id, 0) + 1
        self.filed += 1
        _tally(self.filed_by_destination, destination, 1)
        return app

    def start_week(self) -> None:
        """Reset this week's counters."""
        self.filed = 0
        self.approved = 0
        self.denied = 0
        self.approved_t = 0.0
        self.waits_weeks = []
        self.filed_by_destination = {}
        self.decided_by_destination = {}
        self.approved_by_destination = {}
        self.approved_t_by_destination = {}

    def pending_by_destination(self) -> dict[str, int]:
        """Applications waiting now, by destination."""
        out: dict[str, int] = {}
        for app in self.queue:
            out[app.destination] = out.get(app.destination, 0) + 1
        return out

    def review(self, week: int, exporters: dict[int, ChineseExporter]) -> None:
        """Decide due applications in filing order, at most the policy's capacity this week.

        Applications for destinations that no longer need a licence are withdrawn (moot).
        """
        policy = self.in_force(week)
        moot = [
            a for a in self.queue if not policy.requires_licence(a.destination, week, a.product)
        ]
        for app in moot:
            self._pending_by_buyer[app.buyer_id] -= 1
            exporters[app.applicant_id].on_moot(app)
        if moot:
            gone = {a.id for a in moot}
            self.queue = [a for a in self.queue if a.id not in gone]
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
            _tally(self.decided_by_destination, app.destination, 1)
            if decision.approved:
                self.approved += 1
                self.approved_t += decision.approved_tonnes
                self.licences_issued_total += 1
                _tally(self.approved_by_country, app.destination, 1)
                _tally(self.approved_by_destination, app.destination, 1)
                _tally(self.approved_t_by_destination, app.destination, decision.approved_tonnes)
                exporters[app.applicant_id].on_decision(
                    app,
                    Licence(
                        app.id,
                        app.applicant_id,
                        app.buyer_id,
                        app.destination,
                        app.product,
                        decision.approved_tonnes,
                        decision.approved_tonnes,
                        week,
                        week + decision.validity_weeks - 1,
                        app.order_id,
                    ),
                )
            else:
                self.denied += 1
                exporters[app.applicant_id].on_decision(app, None)
        self.queue = [a for a in self.queue if a.id not in decided]


def _tally(counts: dict, key: str, value: float) -> None:
    counts[key] = counts.get(key, 0) + value
