"""Customer mapping: which QuickBooks customer a source customer (a HubSpot company, a Stripe customer) is.

In order: a stored mapping; else, by the company's ``customer_policy``, a QuickBooks customer with
the same email, then the same display name; else one created in QuickBooks from the source's data;
else the event waits for a person (``autobill mappings set --kind customer``).

Never two QuickBooks customers for one source customer: before talking to QuickBooks a worker
inserts a claim row (one per company, source and customer; the database lets exactly one insert
win), the others wait and are woken when the mapping is set. A claim left by a dead worker expires
and is taken over; the create carries a request id derived from the source customer, so a create
whose answer was lost is replayed by QuickBooks instead of made twice, and a duplicate-name refusal
is resolved by finding the customer by name.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, update

from addon import companysettings
from addon.clock import utcnow
from addon.errors import InvalidInput
from addon.ledger.faults import LedgerFault, Rejected
from addon.ledger.types import CustomerSpec
from addon.models.mappings import CustomerClaim, MappingKind
from addon.sqlutil import insert_unless_present
from rules.events import SourceCustomer

SETTING = "customer_policy"
NAME_LIMIT = 100  # QuickBooks refuses longer company names (and a bookkeeper reads display names in lists)


class CustomerPolicy(StrEnum):
    """What happens to a source customer no mapping names yet (a company setting)."""

    MATCH_OR_CREATE = "match_or_create"  # email or display name match, else create it in QuickBooks
    MATCH_OR_HOLD = "match_or_hold"  # email or display name match, else wait for a person
    HOLD = "hold"  # only stored mappings: every new customer waits for a person


DEFAULT_POLICY = CustomerPolicy.MATCH_OR_CREATE


@dataclass(frozen=True)
class CustomerResolution:
    """The QuickBooks customer, or why the event waits (``retry_in`` None: until a person maps it)."""

    customer_id: str | None = None
    reason: str | None = None
    retry_in: float | None = None


def policy(session, company_id: str) -> CustomerPolicy:
    """The company's customer policy."""
    return CustomerPolicy(companysettings.read(session, company_id, SETTING, DEFAULT_POLICY.value))


def set_policy(container: Any, company_id: str, value: str, *, actor: str) -> CustomerPolicy:
    """Change how the company's unknown customers are handled (audited)."""
    try:
        chosen = CustomerPolicy(value)
    except ValueError:
        raise InvalidInput(f"unknown customer policy {value!r}; known: "
                           f"{', '.join(p.value for p in CustomerPolicy)}") from None
    with container.unit_of_work() as session:
        container.companies.get(company_id)
        before = companysettings.write(session, company_id, SETTING, chosen.value, actor=actor, now=utcnow())
        container.audit.append(company_id, "company.customer_policy_set", actor=actor,
                               subject=f"company:{company_id}", details={"from": before, "to": chosen.value},
                               session=session)
    return chosen


def display_name(source: str, customer: SourceCustomer) -> str:
    """The QuickBooks display name for a source customer (QuickBooks refuses ``:`` in names)."""
    name = " ".join((customer.name or "").replace(":", "-").split())
    return (name or f"{source.title()} customer {customer.id}")[:NAME_LIMIT]


def request_id(company_id: str, source: str, customer_id: str) -> str:
    """The same QuickBooks request id for every create of one source customer (at most 50 characters)."""
    digest = hashlib.sha256("\x1f".join((company_id, source, customer_id)).encode("utf-8")).digest()
    return "abc" + base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:33]


def held(source: str, customer: SourceCustomer, why: str) -> str:
    """The reason a person reads on an event that waits for its customer."""
    known = ", ".join(x for x in (customer.name, customer.email) if x)
    return (f"{why}: map {source} customer {customer.id}{f' ({known})' if known else ''} with "
            f"autobill mappings set --kind customer --source {source} --key {customer.id} --target <QuickBooks id>")


def resolve(container: Any, company_id: str, source: str, customer: SourceCustomer, *,
            now: datetime) -> CustomerResolution:
    """The QuickBooks customer of ``customer``, found, matched or created; or why it waits.

    A retryable ``LedgerFault`` (QuickBooks throttling, unreachable) is raised for the caller to retry.
    """
    mappings = container.mappings
    claim = secrets.token_hex(8)
    with container.unit_of_work() as session:
        found = mappings.get(company_id, MappingKind.CUSTOMER, source, customer.id, session=session)
        if found is not None:
            return CustomerResolution(found.target)
        chosen = policy(session, company_id)
        if chosen is CustomerPolicy.HOLD:
            return CustomerResolution(reason=held(source, customer, "new customers wait for a person"))
        if not _claim(session, company_id, source, customer.id, claim, now,
                      timeout=container.settings.customer_claim_timeout):
            return CustomerResolution(reason=f"another worker is finding the QuickBooks customer of {source} "
                                             f"customer {customer.id}", retry_in=container.settings.customer_wait)
    try:
        match, how = _find_or_create(container.ledger(company_id), company_id, source, customer, chosen)
    except LedgerFault as fault:
        _release(container, company_id, source, customer.id, claim)
        if fault.retryable:
            raise
        return CustomerResolution(reason=held(source, customer, f"QuickBooks refused: {fault.message}"))
    except BaseException:
        _release(container, company_id, source, customer.id, claim)
        raise
    if match is None:
        _release(container, company_id, source, customer.id, claim)
        return CustomerResolution(reason=held(source, customer, "no QuickBooks customer has this email or name"))
    with container.unit_of_work() as session:
        # A person (or a worker whose claim expired) may have mapped it meanwhile: the first mapping wins.
        present, _ = mappings.keep_first_in(session, company_id, MappingKind.CUSTOMER, source, customer.id, match,
                                            actor="worker", how=how)
        session.execute(delete(CustomerClaim).where(*_claim_key(company_id, source, customer.id),
                                                    CustomerClaim.claim == claim))
        return CustomerResolution(present.target)


def _claim_key(company_id: str, source: str, customer_id: str) -> tuple:
    return (CustomerClaim.company_id == company_id, CustomerClaim.source == source,
            CustomerClaim.source_customer_id == customer_id)


def _claim(session, company_id: str, source: str, customer_id: str, claim: str, now: datetime, *,
           timeout: float) -> bool:
    if insert_unless_present(session, CustomerClaim, {
            "company_id": company_id, "source": source, "source_customer_id": customer_id, "claim": claim,
            "claimed_at": now}, ("company_id", "source", "source_customer_id")):
        return True
    # Someone holds it; take it over only if it is older than the timeout (its worker died).
    stale = now - timedelta(seconds=timeout)
    return session.execute(update(CustomerClaim).where(
        *_claim_key(company_id, source, customer_id), CustomerClaim.claimed_at < stale,
    ).values(claim=claim, claimed_at=now)).rowcount == 1


def _release(container: Any, company_id: str, source: str, customer_id: str, claim: str) -> None:
    with container.unit_of_work() as session:
        session.execute(delete(CustomerClaim).where(*_claim_key(company_id, source, customer_id),
                                                    CustomerClaim.claim == claim))


def _find_or_create(ledger, company_id: str, source: str, customer: SourceCustomer,
                    chosen: CustomerPolicy) -> tuple[str | None, str]:
    if customer.email and _EMAIL.match(customer.email):
        by_email = ledger.query("Customer", {"PrimaryEmailAddr": customer.email.strip(), "Active": True},
                                max_results=2)
        if len(by_email) == 1:
            return by_email[0].id, "email"
    name = display_name(source, customer)
    by_name = ledger.find_customer(name)
    if by_name is not None:
        return by_name.id, "name"
    if chosen is not CustomerPolicy.MATCH_OR_CREATE:
        return None, ""
    company_name = " ".join((customer.name or "").split())[:NAME_LIMIT] or None
    spec = CustomerSpec(display_name=name, email=customer.email, company_name=company_name,
                        phone=customer.phone, notes=f"Created by autobill from {source} customer {customer.id}")
    try:
        return ledger.create_customer(spec, request_id=request_id(company_id, source, customer.id)).id, "created"
    except Rejected as refused:
        # 6240: the name exists already (a person or another worker made it a moment ago).
        if refused.qbo_code == "6240":
            again = ledger.find_customer(name)
            if again is not None:
                return again.id, "name"
        raise


_EMAIL = re.compile(r"^[^@\s'\\]+@[^@\s'\\]+$")
