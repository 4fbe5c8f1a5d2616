"""The chaos test's plan, drawn from one seed: which deals each company wins, the deliveries that carry
them (how many copies, in what order), and when workers die, Redis is flushed and tokens expire.

Pure: the same seed gives the same plan. What the emulator's faults hit depends on how requests
interleave, so a run is reproduced in its plan, not request for request.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

from rules import BusinessKey
from rules.keys import object_thing

# The demo data set's customers (sandbox/seed.py), as the sending system knows them.
CUSTOMERS = (("cust-northwind", "Northwind IT"), ("cust-contoso", "Contoso Ltd"), ("cust-fabrikam", "Fabrikam Inc"))
RULE_ID = "bill-won-deals"
ITEM = "Consulting hours"


def agreement_id(customer_key: str) -> str:
    """The agreement each company keeps for a source customer."""
    return f"agr-{customer_key.removeprefix('cust-')}"


@dataclass(frozen=True)
class Deal:
    """One won deal (the source object): the company that bills it, its client and its one line."""

    company: int
    deal_id: str
    customer: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price

    def key(self, company_id: str) -> str:
        """The business key its invoice must carry (``autobill:<key>`` in its private note)."""
        return str(BusinessKey(company_id, agreement_id(self.customer), RULE_ID, object_thing("generic", self.deal_id)))


@dataclass(frozen=True)
class Event:
    """One event about one deal: its id and moment (a second event about a deal has its own of both)."""

    deal: Deal
    event_id: str
    occurred_at: str

    def as_json(self) -> dict:
        name = dict(CUSTOMERS)[self.deal.customer]
        return {"kind": "deal_won", "source_object_id": self.deal.deal_id, "event_id": self.event_id,
                "occurred_at": self.occurred_at, "amount": str(self.deal.amount), "currency": "USD",
                "customer": {"id": self.deal.customer, "name": name},
                "lines": [{"description": f"Project {self.deal.deal_id}", "quantity": str(self.deal.quantity),
                           "unit_price": str(self.deal.unit_price)}]}


@dataclass(frozen=True)
class Delivery:
    """One signed generic delivery of one company: 1 to 5 events (senders batch them), POSTed ``copies`` times."""

    company: int
    delivery_id: str
    events: tuple[Event, ...]
    copies: int

    def body(self) -> bytes:
        return json.dumps({"id": self.delivery_id, "events": [e.as_json() for e in self.events]},
                          separators=(",", ":")).encode()


@dataclass
class Plan:
    """Everything the seed decides."""

    seed: int
    deals: list[Deal]
    events: list[Event]
    deliveries: list[Delivery]
    posts: list[Delivery]  # every copy, in the order they are POSTed
    memory_off: frozenset[int]  # companies whose QuickBooks forgets requestids
    kill_gaps: list[float] = field(default_factory=list)  # seconds between two kills
    flush_at: float = 0.0  # share of the invoices sent when Redis is flushed
    expire_at: float = 0.0  # share of the invoices sent when every access token expires

    @property
    def doubled(self) -> int:
        return len(self.events) - len(self.deals)


def _batches(rng: random.Random, events: list[Event], seed: int, tag: str) -> list[Delivery]:
    """The events of each company in deliveries of 1 to 5."""
    deliveries = []
    for company in sorted({e.deal.company for e in events}):
        mine = [e for e in events if e.deal.company == company]
        rng.shuffle(mine)
        while mine:
            size = rng.randint(1, 5)
            deliveries.append(Delivery(company, f"dl-{seed}-{tag}-{len(deliveries):04d}", tuple(mine[:size]),
                                       rng.randint(1, 3)))
            mine = mine[size:]
    return deliveries


def make_plan(seed: int, *, companies: int, events: int, doubled_share: float, kill_gap: tuple[float, float]) -> Plan:
    """The deals, deliveries and faults of one run."""
    rng = random.Random(seed)
    objects = round(events / (1 + doubled_share))
    twice = set(rng.sample(range(objects), events - objects))
    deals, first, second = [], [], []
    for n in range(objects):
        deal = Deal(rng.randrange(companies), f"deal-{seed}-{n:04d}", rng.choice(CUSTOMERS)[0],
                    rng.randint(1, 40), Decimal(rng.randint(5000, 30000)) / 100)
        deals.append(deal)
        day = f"2026-01-{10 + n % 15:02d}"
        first.append(Event(deal, f"evt-{seed}-{n:04d}-a", f"{day}T09:{n % 60:02d}:00Z"))
        if n in twice:
            # Another event about the same deal: another id, another moment, always another delivery.
            second.append(Event(deal, f"evt-{seed}-{n:04d}-b", f"{day}T10:{n % 60:02d}:00Z"))
    deliveries = _batches(rng, first, seed, "a") + _batches(rng, second, seed, "b")
    posts = [d for d in deliveries for _ in range(d.copies)]
    rng.shuffle(posts)
    memory_off = frozenset(rng.sample(range(companies), companies // 2))
    return Plan(seed, deals, first + second, deliveries, posts, memory_off,
                kill_gaps=[round(rng.uniform(*kill_gap), 1) for _ in range(400)],
                flush_at=round(rng.uniform(0.3, 0.5), 2), expire_at=round(rng.uniform(0.55, 0.75), 2))
