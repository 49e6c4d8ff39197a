"""SLA management in the style of TMF623 (no definition file is shipped; the conventions of
the other APIs hold): an ``sla`` names its SLA rule set and its parties; measurements of
its metrics are posted; the rule engine decides which thresholds they break; each breach
is an ``slaViolation`` (with the metric identifier, value, severity and rule), notified to
the SLA's parties, and — when major or critical — opens a trouble ticket for the provider.
A report counts violations per period, rule and severity (what settlement penalties use).
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import typing
import uuid
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from bssrules.services import notifications
from bssrules.catalog.types import format_instant, parse_instant
from bssrules.dates import date_time_problem, shown
from bssrules.errors import Conflict, Forbidden, InvalidInput, NotFound, did_you_mean
from bssrules.rules.decisions import decide
from bssrules.rules.model import SlaRule
from bssrules.services.records import StoredResource, href
from bssrules.services.ports import UnitOfWork
from bssrules.services.runtime import Runtime
from bssrules.services.tickets import refuse_unknown_partners

API = "/tmf-api/slaManagement/v4"
TICKETED = ("critical", "major")
MEASUREMENT = "slaMeasurement"  # kept (not served): what was measured, so that a retry raises nothing twice
# The windows an SLA rule may watch (rules-format.md): a measurement's window is one of them,
# or no rule could ever match it.
WINDOWS: tuple[str, ...] = next(typing.get_args(a) for a in typing.get_args(SlaRule.model_fields["window"].annotation)
                                if typing.get_args(a))
SEVERITIES: tuple[str, ...] = typing.get_args(SlaRule.model_fields["severity"].annotation)
STATES = ("active",)  # an SLA's states: it is agreed active, and no operation changes it
# A measured value is a percentage, a count, a duration…: beyond these it is a mistake (1e400, a
# value in the wrong unit), not an observation, and would be echoed back as such.
MAX_VALUE = Decimal(10) ** 15
VALUE_PLACES = 12
PLACES = Decimal(1).scaleb(-VALUE_PLACES)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _render(kind: str, type_: str, stored: StoredResource) -> dict[str, Any]:
    shown = stored.shown
    return {**shown, "id": stored.id, "href": href(f"{API}/{kind}", stored.id), "@type": type_}


def create_sla(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """An SLA: ``name``, ``ruleSet`` {id} (an SLA rule set), ``relatedParty`` with roles
    provider and consumer, optional ``validFor``."""
    unknown = sorted(set(body) - {"id", "name", "description", "ruleSet", "relatedParty", "validFor", "@type"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r} for SLA", path=(unknown[0],))
    if not isinstance(body.get("name"), str) or not body["name"]:
        raise InvalidInput("name is required", path=("name",))
    if "id" in body and not isinstance(body["id"], str):
        raise InvalidInput("id is a string", path=("id",))
    if not isinstance(body.get("description", ""), str):
        raise InvalidInput("description is a text", path=("description",))
    rule_set = (body.get("ruleSet") or {}).get("id") if isinstance(body.get("ruleSet"), dict) else None
    if not isinstance(rule_set, (str, type(None))):
        raise InvalidInput("ruleSet.id is the id of an SLA rule set", path=("ruleSet", "id"))
    versions = runtime.rules.versions.get(rule_set or "")
    if not versions or versions[-1].kind != "sla":
        known = [k for k, v in runtime.rules.versions.items() if v[-1].kind == "sla"]
        raise InvalidInput(f"ruleSet {rule_set!r} is not an SLA rule set", path=("ruleSet", "id"),
                           suggestion=did_you_mean(str(rule_set), known))
    if not isinstance(body.get("relatedParty"), list) or not all(
            isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("role"), (str, type(None)))
            for p in body["relatedParty"]):
        raise InvalidInput("relatedParty is a list of {id, role} (strings)", path=("relatedParty",))
    parties = [p for p in body["relatedParty"] if p.get("id")]
    roles = {p.get("role") for p in parties}
    if not {"provider", "consumer"} <= roles:
        raise InvalidInput("relatedParty names the provider and the consumer (roles provider, consumer)",
                           path=("relatedParty",))
    _check_valid_for(body.get("validFor"))
    # every party sees the SLA and its violations, the provider works its tickets: partners all
    refuse_unknown_partners(uow, [(p.get("role") or "party", p["id"]) for p in parties])
    _refuse_an_sla_for_others(uow, parties)
    now = _now()
    document = {k: v for k, v in body.items() if k not in ("id", "@type")}
    document.update(state="active", sharedWith=sorted({p["id"] for p in parties}))
    stored = StoredResource("sla", body.get("id") or str(uuid.uuid4()), 1, now, now, document, state="active")
    if uow.resources.get("sla", stored.id) is not None:
        raise Conflict(f"an SLA with id '{stored.id}' already exists")
    uow.resources.insert(stored)
    created = uow.resources.get("sla", stored.id)
    assert created is not None  # inserted just above, in this unit of work
    answer = _render("sla", "ServiceLevelAgreement", created)  # made before the commit: nothing fails after it
    uow.commit()
    return answer


def _refuse_an_sla_for_others(uow: UnitOfWork, parties: list[dict[str, Any]]) -> None:
    """A partner agrees the SLAs it is a party to, not others': its measurements open tickets
    for the provider and its violations are what the settlement's penalties count (the
    operator may agree any)."""
    principal = uow.principal
    if principal is None or principal.is_admin or principal.id in {p["id"] for p in parties}:
        return
    named = "; ".join(f"{p.get('role') or 'party'} {p['id']}" for p in parties)
    raise Forbidden(f"an SLA binds its parties only, and {principal.id} is none of them ({named}): name yourself "
                    "provider or consumer, or let the operator agree it")


def _check_valid_for(valid_for: Any) -> None:
    """An SLA's ``validFor``, its date-times judged as every TMF body's are (:mod:`bssrules.dates`:
    a date-time, UTC when it names no zone, or a date): an object whose bounds are instants, the
    end not before the start."""
    if valid_for is None:
        return
    if not isinstance(valid_for, dict):
        raise InvalidInput("validFor is an object {startDateTime, endDateTime}", path=("validFor",))
    unknown = sorted(set(valid_for) - {"startDateTime", "endDateTime"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r} in validFor (startDateTime, endDateTime)",
                           path=("validFor", unknown[0]))
    bounds: dict[str, dt.datetime] = {}
    for key in ("startDateTime", "endDateTime"):
        value = valid_for.get(key)
        if value is None:
            continue
        problem = date_time_problem(value)  # (as every TMF body's date-times are judged)
        if problem is not None:
            raise InvalidInput(f"validFor.{key}: {shown(value)} {problem}", path=("validFor", key))
        parsed = parse_instant(value)
        assert isinstance(parsed, dt.datetime)  # (a date-time or a date, in the calendar: date_time_problem)
        bounds[key] = parsed
    if len(bounds) == 2 and bounds["endDateTime"] < bounds["startDateTime"]:
        raise InvalidInput("validFor ends before it starts", path=("validFor", "endDateTime"))


def get_sla(uow: UnitOfWork, sla_id: str) -> dict[str, Any]:
    stored = uow.resources.get("sla", sla_id)
    if stored is None:
        raise NotFound("ServiceLevelAgreement", sla_id)
    return _render("sla", "ServiceLevelAgreement", stored)


def list_of(uow: UnitOfWork, kind: str, filters: dict[str, list[str]], offset: int, limit: int
            ) -> tuple[list[dict[str, Any]], int]:
    type_ = {"sla": "ServiceLevelAgreement", "slaViolation": "SlaViolation"}[kind]
    page, total = uow.resources.page(kind, filters, offset, limit)
    return [_render(kind, type_, s) for s in page], total


def get_violation(uow: UnitOfWork, violation_id: str) -> dict[str, Any]:
    stored = uow.resources.get("slaViolation", violation_id)
    if stored is None:
        raise NotFound("SlaViolation", violation_id)
    return _render("slaViolation", "SlaViolation", stored)


def _measured_value(given: Any) -> Decimal:
    """The value of a measurement: a finite number within ±10^15 with at most 12 decimals."""
    try:
        if isinstance(given, bool):
            raise InvalidOperation
        value = Decimal(str(given))
    except (InvalidOperation, ValueError):
        raise InvalidInput("value is a number", path=("value",)) from None
    # the magnitude first: quantize cannot hold a value beyond the decimal context's precision
    if not value.is_finite() or abs(value) > MAX_VALUE or value != value.quantize(PLACES, rounding=ROUND_DOWN):
        raise InvalidInput(f"value is a finite number between -10^15 and 10^15 with at most {VALUE_PLACES} "
                           "decimals", path=("value",))
    return value


# How far ahead of the server's clock a monitor's clock may be.
CLOCK_SKEW = dt.timedelta(minutes=5)
MEASUREMENT_FIELDS = ("sla", "metric", "value", "window", "observedAt", "service", "@type")
# How close (difflib's ratio, case and punctuation aside) an unknown attribute's name must be to
# a measurement field's to be read as its misspelling rather than as an attribute of its own.
MISSPELT = 0.75


def _spelling(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _field_meant(name: str) -> str | None:
    """The measurement field an unknown attribute is a misspelling of (``observed_at``,
    ``windw``, ``Value``), None for an attribute of its own (``source``, ``probe``)."""
    spelt = _spelling(name)
    return next((field for field in MEASUREMENT_FIELDS
                 if difflib.SequenceMatcher(None, spelt, _spelling(field)).ratio() >= MISSPELT), None)


def _measured_sla(body: dict[str, Any]) -> str | None:
    """The id of the measured SLA (None when the body names none). Other attributes are kept
    out of the way (the schema allows them), but not a misspelt field: ignored, ``observed_at``
    measured the value as now, ``windw`` for every window. An ``sla`` of another shape is a
    bad request, not an SLA not found."""
    for name in sorted(set(body) - set(MEASUREMENT_FIELDS)):
        meant = _field_meant(name)
        if meant is not None:
            raise InvalidInput(f"unsupported field {name!r} for a measurement (its fields: "
                               f"{', '.join(MEASUREMENT_FIELDS)})", path=(name,), suggestion=meant)
    sla = body.get("sla")
    if sla is not None and not (isinstance(sla, dict) and "id" in sla):
        given = json.dumps(sla, default=str)
        raise InvalidInput(f"sla is the measured SLA as {{\"id\": \"<its id>\"}}, not "
                           f"{given if len(given) <= 60 else given[:59] + '…'}", path=("sla",))
    # an id that is no text names no SLA: not found, as it always was (test_fuzz_regressions)
    return str(sla["id"]) if sla is not None else None


def _observed(given: Any) -> dt.datetime:
    """When the value was observed: a date-time (UTC when it names no zone) or a date, spelt
    as every TMF body's are (:mod:`bssrules.dates`); now when the body gives none — an empty
    text or 0 is no instant, and is refused rather than read as now."""
    if given is None:
        return _now()
    problem = date_time_problem(given)
    if problem is not None:  # (the value received, and what was expected: as every date of a body says)
        text = json.dumps(given, default=str)
        quoted = shown(given) if isinstance(given, str) else text if len(text) <= 60 else text[:60] + "…"
        raise InvalidInput(f"observedAt {quoted} {problem}", path=("observedAt",))
    observed = parse_instant(given)
    assert isinstance(observed, dt.datetime)  # (a date-time or a date, in the calendar: date_time_problem)
    return observed


def _refuse_the_future(observed: dt.datetime) -> None:
    """A value of the future is a mistake (a day and a month swapped, a zone forgotten), and its
    violations would count in a month not yet reported or settled."""
    now = _now()
    if observed > now + CLOCK_SKEW:
        raise InvalidInput(f"observedAt {format_instant(observed)} is ahead of now ({format_instant(now)}): a value "
                           f"is posted once observed (a clock up to {CLOCK_SKEW.seconds // 60} minutes ahead is "
                           "tolerated)", path=("observedAt",))


def _check_within_validity(sla: StoredResource, observed: dt.datetime) -> None:
    """An SLA binds its parties during its ``validFor`` only (from its start, up to but not
    including its end, as every validFor): a value observed outside it breaks none of its
    thresholds, and is refused rather than raising violations, tickets and penalties."""
    valid_for = sla.document.get("validFor") or {}
    start, end = (parse_instant(valid_for[k]) if valid_for.get(k) else None for k in ("startDateTime", "endDateTime"))
    assert isinstance(start, (dt.datetime, type(None))) and isinstance(end, (dt.datetime, type(None)))
    if (start is not None and observed < start) or (end is not None and observed >= end):
        raise InvalidInput(f"observedAt {format_instant(observed)} is outside the SLA's validFor "
                           f"({valid_for.get('startDateTime') or 'no start'} to {valid_for.get('endDateTime') or 'no end'}"
                           "): the SLA does not cover it", path=("observedAt",))


def _check_metric_and_window(runtime: Runtime, rule_set_id: str, metric: str, window: Any) -> None:
    """Refuse a metric no rule of the SLA's rule set (any version) watches, and a window that is
    none of those a rule may watch: either would match no threshold, and the measurement would
    answer "no violation" whatever its value."""
    metrics = {r.metric for c in runtime.rules.versions.get(rule_set_id, []) for r in c.definition.rules
               if isinstance(r, SlaRule)}
    if metric not in metrics:
        raise InvalidInput(f"metric {metric!r} is watched by no rule of the SLA's rule set {rule_set_id} "
                           f"(its metrics: {', '.join(sorted(metrics)) or 'none'})", path=("metric",),
                           suggestion=did_you_mean(metric, metrics))
    if window is not None and window not in WINDOWS:
        raise InvalidInput(f"window {window!r} is none of {', '.join(WINDOWS)}", path=("window",),
                           suggestion=did_you_mean(str(window), WINDOWS))


def measure(uow: UnitOfWork, runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """A measurement of an SLA metric: ``sla`` {id}, ``metric`` (its identifier), ``value``,
    optional ``window``, ``observedAt`` (default now), ``service``. Answers the violations it
    raised (none when every threshold holds)."""
    sla_id = _measured_sla(body)
    stored = uow.resources.get("sla", sla_id or "")
    if stored is None:
        raise NotFound("ServiceLevelAgreement", str(sla_id))
    metric = body.get("metric")
    if not isinstance(metric, str) or not metric:
        raise InvalidInput("metric is the identifier of the measured metric", path=("metric",))
    value = _measured_value(body.get("value"))
    observed = _observed(body.get("observedAt"))
    _check_metric_and_window(runtime, stored.document["ruleSet"]["id"], metric, body.get("window"))
    _check_within_validity(stored, observed)
    _refuse_the_future(observed)
    measurement_id = _measurement_id(stored.id, metric, body.get("window"), body.get("service"), observed)
    earlier = uow.all_resources.get(MEASUREMENT, measurement_id)
    if earlier is not None:
        return _measured_before(uow, earlier, value)
    compiled = runtime.rules.in_force(stored.document["ruleSet"]["id"], observed)
    facts = metric_facts(metric, value, body.get("window"), body.get("service"), stored.document.get("relatedParty", []))
    provider = facts["metric"].get("partner")
    decision = decide(compiled, facts, observed, with_trace=False)
    now = _now()
    made = []
    for violation in decision.outcome["violations"]:
        document = {"sla": {"id": stored.id, "name": stored.document["name"]}, "rule": violation["rule"],
                    "ruleSet": compiled.id, "metric": metric, "value": value, "severity": violation["severity"],
                    "observedAt": format_instant(observed), "relatedParty": stored.document.get("relatedParty", []),
                    "sharedWith": stored.document.get("sharedWith", []),
                    **{field: body[field] for field in ("window", "service") if body.get(field)}}
        violation_id = str(uuid.uuid4())
        if violation["severity"] in TICKETED and provider:
            document["troubleTicket"] = {"id": _open_ticket(uow, stored, document, violation_id, provider, now)}
        item = StoredResource("slaViolation", violation_id, 1, now, now, document, state=violation["severity"],
                              partner_id=stored.partner_id)
        uow.resources.insert(item)
        rendered = _render("slaViolation", "SlaViolation", item)
        notifications.publish(uow, "TMF623", "SlaViolationCreateEvent", "slaViolation", rendered,
                              [stored.partner_id, *document["sharedWith"]])
        made.append(rendered)
    record = {"sla": {"id": stored.id}, "metric": metric, "value": value, "observedAt": format_instant(observed),
              **{field: body[field] for field in ("window", "service") if body.get(field)},
              "violation": [v["id"] for v in made], "sharedWith": stored.document.get("sharedWith", [])}
    uow.resources.insert(StoredResource(MEASUREMENT, measurement_id, 1, now, now, record, partner_id=stored.partner_id))
    uow.commit()
    return {"sla": {"id": stored.id}, "metric": metric, "value": value, "observedAt": format_instant(observed),
            "violation": made}


def metric_facts(metric: str, value: Any, window: Any, service: Any, parties: list[dict[str, Any]],
                 severity: str | None = None) -> dict[str, Any]:
    """The facts of an observation of an SLA's metric, as the SLA's rules decide it and the
    settlement rules decide its violations (``severity``: the violation's): its name, value,
    window and service, the SLA's provider (``partner``) and its consumers — so that a
    settlement rule can say whose SLA's breach it charges, and who is paid."""
    facts: dict[str, Any] = {"name": metric, "value": value}
    if window:
        facts["window"] = window
    if service:
        facts["service"] = service
    provider = next((p["id"] for p in parties if isinstance(p, dict) and p.get("role") == "provider"), None)
    if provider:
        facts["partner"] = provider
    facts["consumers"] = sorted({p["id"] for p in parties if isinstance(p, dict) and p.get("role") == "consumer"
                                 and isinstance(p.get("id"), str)})
    if severity:
        facts["severity"] = severity
    return {"metric": facts}


def _measurement_id(sla_id: str, metric: str, window: Any, service: Any, observed: dt.datetime) -> str:
    """The id of the measurement of an SLA's metric, for a window and a service, at an instant:
    one value stands for each (a monitor's retry must not raise its violations, tickets and
    penalties twice)."""
    key = json.dumps([sla_id, metric, window or None, service or None, format_instant(observed)], default=str)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{API}/slaMeasurement/{key}"))


def _measured_before(uow: UnitOfWork, earlier: StoredResource, value: Decimal) -> dict[str, Any]:
    """A measurement posted again: the same value answers the violations it raised the first
    time (none raised again); another value is a conflict — what was measured stands."""
    document = earlier.document
    measured = Decimal(str(document["value"]))
    if measured != value:
        window = f" (window {document['window']})" if document.get("window") else ""
        raise Conflict(f"{document['metric']}{window} of SLA {document['sla']['id']} was measured at "
                       f"{document['observedAt']} as {measured:f}, not {value:f}: a measurement stands as "
                       "first posted; post a value observed at another instant")
    violations = [uow.all_resources.get("slaViolation", v) for v in document["violation"]]
    return {"sla": document["sla"], "metric": document["metric"], "value": value, "observedAt": document["observedAt"],
            "violation": [_render("slaViolation", "SlaViolation", v) for v in violations if v is not None]}


def _open_ticket(uow: UnitOfWork, sla: StoredResource, violation: dict[str, Any], violation_id: str, provider: str,
                 now: dt.datetime) -> str:
    from bssrules.services.tickets import KIND, render

    ticket_id = str(uuid.uuid4())
    reason = f"SLA {sla.document['name']}: {violation['metric']} = {violation['value']} breaks {violation['rule']}"
    parties = [{"id": provider, "role": "assignee", "@referredType": "Organization"}]
    # The consumer suffered the violation: it is the originator, who closes the ticket once
    # satisfied with the resolution or sends it back.
    consumer = next((p["id"] for p in sla.document.get("relatedParty", []) if p.get("role") == "consumer"), None)
    if consumer:
        parties.append({"id": consumer, "role": "originator", "@referredType": "Organization"})
    document = {"description": reason, "severity": violation["severity"], "ticketType": "slaViolation",
                "status": "acknowledged", "relatedParty": parties, "creationDate": format_instant(now),
                "relatedEntity": [{"id": violation_id, "role": "slaViolation", "@referredType": "SlaViolation"}],
                "statusChange": [{"status": "acknowledged", "changeDate": format_instant(now),
                                  "changeReason": "opened by an SLA violation"}],
                "sharedWith": violation["sharedWith"]}
    stored = StoredResource(KIND, ticket_id, 1, now, now, document, state="acknowledged", partner_id=sla.partner_id)
    uow.resources.insert(stored)
    notifications.publish(uow, "TMF621", "TroubleTicketCreateEvent", "troubleTicket", render(stored),
                          [sla.partner_id, *violation["sharedWith"]])
    return ticket_id


def _observed_at(violation: StoredResource) -> dt.datetime:
    instant = parse_instant(violation.document["observedAt"])
    assert isinstance(instant, dt.datetime)  # measure() stores it as a date-time text (format_instant)
    return instant


def report(uow: UnitOfWork, sla_id: str, period: str) -> dict[str, Any]:
    """Violations of an SLA in a month (``YYYY-MM``), counted per rule and severity."""
    from bssrules.pricing.billing import BillingPeriod

    if uow.resources.get("sla", sla_id) is None:
        raise NotFound("ServiceLevelAgreement", sla_id)
    try:
        month = BillingPeriod.month(period)
    except ValueError as exc:
        raise InvalidInput(str(exc), path=("period",)) from None
    found = [v for v in uow.resources.find("slaViolation", {"sla.id": [sla_id]}, 1_000_000)
             if month.start <= _observed_at(v) < month.end]
    counts: dict[tuple[str, str, str], int] = {}
    for v in found:
        key = (v.document["rule"], v.document["metric"], v.document["severity"])
        counts[key] = counts.get(key, 0) + 1
    return {"sla": {"id": sla_id}, "period": {"startDateTime": format_instant(month.start),
                                              "endDateTime": format_instant(month.end)},
            "violationCount": len(found),
            "byRule": [{"rule": r, "metric": m, "severity": s, "count": n} for (r, m, s), n in sorted(counts.items())],
            "@type": "SlaReport"}


__all__ = ["SEVERITIES", "STATES", "create_sla", "get_sla", "measure", "report", "get_violation", "list_of"]
