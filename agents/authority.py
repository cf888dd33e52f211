"""China's licensing authority (MOFCOM): one review desk working through a queue of applications.

Exporters (or tier-1 suppliers) file an application per contract or per shipment (C-LIC-3),
so a buyer can have many pending at once. One desk with a finite weekly capacity, shared by
all destinations, decides the due applications in filing order; approvals become
:class:`~simulation.policies.Licence` objects handed to the applicant, and a later phase of
the policy can suspend or revoke them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from mesa import Agent

from simulation.policies import PRODUCTS, Application, Licence, LicencePolicy

EPS = 1e-12
"""Tonnes below this count as nothing (same tolerance as :mod:`simulation.market`)."""
PRUNE_EVERY_WEEKS = 4
"""How often the authority drops used-up, expired and revoked licences from ``issued``."""


class Applicant(Protocol):
    """What the authority needs of a filer: an id and a callback for the decision.

    A filer may also define ``on_moot(app)``: called when an application is dropped
    undecided because its destination no longer needs a licence for that product.
    """

    unique_id: int

    def on_decision(self, app: Application, licence: Licence | None) -> None:
        """Receive the decision on ``app``: the licence granted, or None if denied."""


_GroupKey = tuple[str, str]  # (destination, product)


class _Group:
    """Pending applications of one destination and product.

    ``waiting`` is a heap by (earliest decision week, id); ``ready`` a heap by id of those
    whose delay has passed.
    """

    __slots__ = ("ready", "waiting")

    def __init__(self) -> None:
        self.waiting: list[tuple[int, int, Application]] = []
        self.ready: list[tuple[int, Application]] = []

    def __len__(self) -> int:
        return len(self.waiting) + len(self.ready)

    def apps(self) -> Iterator[Application]:
        for _, _, app in self.waiting:
            yield app
        for _, app in self.ready:
            yield app


class ReviewQueue:
    """The pending applications, grouped by (destination, product), in filing order.

    A week's review costs about (newly due + decided) x log(pending) plus the number of
    groups: held destinations and applications not yet due are never scanned.
    """

    def __init__(self) -> None:
        self._groups: dict[_GroupKey, _Group] = {}
        self._size = 0
        self._by_destination: dict[str, int] = {}
        self._by_buyer: dict[int, int] = {}

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Application]:
        """Every pending application, in filing order (sorts: for inspection, not hot loops)."""
        return iter(sorted((a for g in self._groups.values() for a in g.apps()), key=_app_id))

    def __bool__(self) -> bool:
        return self._size > 0

    def add(self, app: Application) -> None:
        """Queue ``app`` (its ``earliest_decision_week`` already set)."""
        key = (app.destination, app.product)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group()
        heapq.heappush(group.waiting, (app.earliest_decision_week, app.id, app))
        self._count(app, +1)

    def _count(self, app: Application, step: int) -> None:
        self._size += step
        for tally, key in ((self._by_destination, app.destination), (self._by_buyer, app.buyer_id)):
            n = tally.get(key, 0) + step
            if n:
                tally[key] = n
            else:
                del tally[key]

    def pending_by_destination(self) -> dict[str, int]:
        """Pending applications per destination (a copy)."""
        return dict(self._by_destination)

    def pending_count(self, buyer_id: int) -> int:
        """Pending applications naming ``buyer_id``."""
        return self._by_buyer.get(buyer_id, 0)

    def groups(self) -> list[_GroupKey]:
        """The (destination, product) pairs with pending applications."""
        return list(self._groups)

    def drop(self, key: _GroupKey) -> list[Application]:
        """Remove and return a whole group's applications, in filing order."""
        group = self._groups.pop(key, None)
        if group is None:
            return []
        apps = sorted(group.apps(), key=_app_id)
        for app in apps:
            self._count(app, -1)
        return apps

    def promote(self, week: int) -> None:
        """Move applications whose delay has passed by ``week`` to their group's ready heap."""
        for group in self._groups.values():
            waiting, ready = group.waiting, group.ready
            while waiting and waiting[0][0] <= week:
                _, app_id, app = heapq.heappop(waiting)
                heapq.heappush(ready, (app_id, app))

    def take(self, week: int, capacity: int | None, policy: LicencePolicy) -> list[Application]:
        """Remove and return up to ``capacity`` ready, unheld applications, oldest first.

        Call :meth:`promote` first. Held applications stay queued.
        """
        limit = len(self) if capacity is None else capacity
        if limit <= 0:
            return []
        # Sources: a group's ready heap (nothing held) or a sorted list of its unheld apps.
        heads: list[tuple[int, int]] = []
        sources: list[tuple[_Group, list[tuple[int, Application]] | None]] = []
        for (destination, _), group in self._groups.items():
            if not group.ready:
                continue
            held = policy.holds_destination(destination, week)
            if held:
                continue
            free = None
            if held is None:
                free = sorted(e for e in group.ready if not policy.holds(e[1], week))
                if not free:
                    continue
                free.reverse()  # pop() from the end gives the oldest
            heads.append(((group.ready[0] if free is None else free[-1])[0], len(sources)))
            sources.append((group, free))
        heapq.heapify(heads)
        batch: list[Application] = []
        picked: dict[int, set[int]] = {}  # source index -> ids taken from a ``free`` list
        while heads and len(batch) < limit:
            _, i = heapq.heappop(heads)
            group, free = sources[i]
            if free is None:
                _, app = heapq.heappop(group.ready)
                if group.ready:
                    heapq.heappush(heads, (group.ready[0][0], i))
            else:
                _, app = free.pop()
                picked.setdefault(i, set()).add(app.id)
                if free:
                    heapq.heappush(heads, (free[-1][0], i))
            batch.append(app)
        for i, ids in picked.items():
            group = sources[i][0]
            group.ready = [e for e in group.ready if e[0] not in ids]
            heapq.heapify(group.ready)
        for app in batch:
            self._count(app, -1)
        for key in [k for k, g in self._groups.items() if not len(g)]:
            del self._groups[key]
        return batch


def _app_id(app: Application) -> int:
    return app.id


class LicensingAuthority(Agent):
    """Takes export-licence applications, reviews them in filing order, issues licences.

    Each week it first applies a newly started phase's revocations, drops applications made
    moot (their destination no longer needs a licence for the product), then decides, oldest
    first across all destinations, the due and unheld applications up to the desk's capacity.

    Args:
        model: the model (its ``rng`` draws review delays and decisions).
        policy: the licence policy in force (possibly a :class:`simulation.policies.Timeline`).

    Attributes:
        queue: the pending applications (:class:`ReviewQueue`; ``len`` is the queue length).
        issued: live licences (used-up, expired and revoked ones are pruned every few weeks).
        licences_issued_total: licences issued since the start.
        filed, approved, denied, moot, revoked: this week's counts (applications; licences
            for ``revoked``).
        approved_t: tonnes licensed this week (t).
        waits_weeks: weeks from filing to decision of each application decided this week.
        filed_by_destination, decided_by_destination, approved_by_destination,
            approved_t_by_destination: this week's counts (tonnes for ``approved_t_...``).
        approved_by_country: approvals per destination since the start.
    """

    def __init__(self, model: Any, policy: LicencePolicy) -> None:
        super().__init__(model)
        self.policy = policy
        self._cached: tuple[int, LicencePolicy, LicencePolicy, dict] | None = None
        self._phase: LicencePolicy | None = None
        self.queue = ReviewQueue()
        self.issued: list[Licence] = []
        self._next_id = 0
        self._next_licence_id = 0
        self._next_prune_week: int | None = None
        self.licences_issued_total = 0
        self.approved_by_country: dict[str, int] = {}
        self.start_week()

    # ------------------------------------------------------------------ policy

    def set_policy(self, policy: LicencePolicy) -> None:
        """Switch policy from the next review on (pending applications stay queued).

        The new policy counts as a new phase: its revocations apply at the next review.
        """
        self.policy = policy
        self._cached = None

    def in_force(self, week: int) -> LicencePolicy:
        """The policy in force in ``week`` (a timeline's phase), looked up once per week."""
        cached = self._cached
        if cached is None or cached[0] != week or cached[1] is not self.policy:
            cached = self._cached = (week, self.policy, self.policy.active(week), {})
        return cached[2]

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Whether exports of ``product`` to ``destination`` need a licence in ``week``.

        Asked once per destination, product and week of the policy in force (a policy's
        answer depends only on those: :meth:`LicencePolicy.requires_licence`).
        """
        policy = self.in_force(week)
        answers = self._cached[3]
        key = (destination, product)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = policy.requires_licence(destination, week, product)
        return answer

    def control_announced(self, destination: str, week: int) -> bool:
        """Whether a coming phase will require a licence ``destination`` lacks in ``week``.

        :meth:`LicencePolicy.control_announced`, asked once per destination and week of the
        policy (its answer depends only on those).
        """
        self.in_force(week)
        answers = self._cached[3]
        key = (destination, "announced")
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = self.policy.control_announced(destination, week)
        return answer

    def extraterritorial(self, week: int) -> bool:
        """Whether non-Chinese controlled-grade magnets need a Chinese licence (C-LIC-7)."""
        return self.in_force(week).extraterritorial(week)

    def usable(self, licence: Licence, week: int) -> bool:
        """Whether ``licence`` can be shipped against in ``week``.

        It must have tonnes left, be issued and unexpired, not revoked, and its destination
        not suspended by the policy in force.
        """
        return (
            licence.remaining_t > EPS
            and licence.issued_week <= week <= licence.expires_week
            and (licence.revoked_week is None or week < licence.revoked_week)
            and not self.in_force(week).suspends(licence.destination, week)
        )

    # ------------------------------------------------------------------ queue

    def pending_by_destination(self) -> dict[str, int]:
        """Pending applications per destination now."""
        return self.queue.pending_by_destination()

    def pending_count(self, buyer_id: int) -> int:
        """Applications pending for ``buyer_id`` now (there may be many)."""
        return self.queue.pending_count(buyer_id)

    def file(
        self,
        applicant: Applicant,
        buyer_id: int,
        destination: str,
        end_use: str,
        tonnes: float,
        week: int,
        *,
        product: str = "magnet",
        order_id: int | None = None,
    ) -> Application:
        """Queue an application; its earliest decision week is drawn from the policy now.

        Raises:
            ValueError: for an unknown ``product``.
        """
        if product not in PRODUCTS:
            raise ValueError(f"product must be one of {', '.join(PRODUCTS)}, not {product!r}")
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
        self.queue.add(app)
        self.filed += 1
        _tally(self.filed_by_destination, destination, 1)
        return app

    def start_week(self) -> None:
        """Reset this week's counters."""
        self.filed = 0
        self.approved = 0
        self.denied = 0
        self.moot = 0
        self.revoked = 0
        self.approved_t = 0.0
        self.waits_weeks: list[int] = []
        self.filed_by_destination: dict[str, int] = {}
        self.decided_by_destination: dict[str, int] = {}
        self.approved_by_destination: dict[str, int] = {}
        self.approved_t_by_destination: dict[str, float] = {}

    # ------------------------------------------------------------------ the weekly review

    def review(self, week: int, applicants: Mapping[int, Applicant]) -> None:
        """Revoke, drop moot applications, then decide due ones in filing order up to capacity.

        Args:
            week: this week.
            applicants: filers by ``unique_id``; each decided application's filer gets
                ``on_decision(app, licence_or_None)``, each moot one's ``on_moot(app)`` if
                it has that method.
        """
        policy = self.in_force(week)
        if policy is not self._phase:
            self._phase = policy
            self._revoke(policy, week)
        self._drop_moot(policy, week, applicants)
        self.queue.promote(week)
        batch = self.queue.take(week, policy.review_capacity(week), policy)
        if batch:
            policy.begin_review(batch, week)
        for app in batch:
            self._decide(app, policy, week, applicants)
        if self._next_prune_week is None or week >= self._next_prune_week:
            self._prune(week)
            self._next_prune_week = week + PRUNE_EVERY_WEEKS

    def _revoke(self, policy: LicencePolicy, week: int) -> None:
        for lic in self.issued:
            if (
                lic.revoked_week is None
                and lic.issued_week < week
                and lic.expires_week >= week
                and lic.remaining_t > EPS
                and policy.revokes(lic.destination, week)
            ):
                lic.revoked_week = week
                lic.remaining_t = 0.0
                self.revoked += 1

    def _drop_moot(
        self, policy: LicencePolicy, week: int, applicants: Mapping[int, Applicant]
    ) -> None:
        moot: list[Application] = []
        for destination, product in self.queue.groups():
            if not policy.requires_licence(destination, week, product):
                moot += self.queue.drop((destination, product))
        if not moot:
            return
        moot.sort(key=_app_id)
        self.moot += len(moot)
        for app in moot:
            on_moot = getattr(applicants.get(app.applicant_id), "on_moot", None)
            if on_moot is not None:
                on_moot(app)

    def _decide(
        self,
        app: Application,
        policy: LicencePolicy,
        week: int,
        applicants: Mapping[int, Applicant],
    ) -> None:
        decision = policy.decide(app, week, self.model.rng)
        self.waits_weeks.append(week - app.filed_week)
        _tally(self.decided_by_destination, app.destination, 1)
        licence = None
        if decision.approved:
            licence = Licence(
                id=self._next_licence_id,
                applicant_id=app.applicant_id,
                buyer_id=app.buyer_id,
                destination=app.destination,
                product=app.product,
                granted_t=decision.approved_tonnes,
                remaining_t=decision.approved_tonnes,
                issued_week=week,
                expires_week=week + decision.validity_weeks - 1,
                order_id=app.order_id,
            )
            self._next_licence_id += 1
            self.issued.append(licence)
            self.approved += 1
            self.approved_t += decision.approved_tonnes
            self.licences_issued_total += 1
            _tally(self.approved_by_destination, app.destination, 1)
            _tally(self.approved_by_country, app.destination, 1)
            _tally(self.approved_t_by_destination, app.destination, decision.approved_tonnes)
        else:
            self.denied += 1
        applicants[app.applicant_id].on_decision(app, licence)

    def _prune(self, week: int) -> None:
        self.issued = [
            lic
            for lic in self.issued
            if lic.revoked_week is None and lic.remaining_t > EPS and lic.expires_week >= week
        ]


def _tally(counts: dict[Any, Any], key: Any, step: float) -> None:
    counts[key] = counts.get(key, 0) + step
