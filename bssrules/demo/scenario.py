"""The connected-car scenario, played through the HTTP API as the partners would.

Four parties: the CSP (the operator, an administrator), the car manufacturer, the
infotainment content provider and the call center, each with its own API key and API
bundle. Part 1: the car manufacturer buys connectivity and split billing. Part 2: a
driver buys an infotainment package and pays it as a third-party payer; a month of usage
is rated and split; the month is billed. Part 3: tickets routed, redirected, resolved and
closed; an SLA breached; the month settled between the partners. Part 4: the content
provider builds a converged offer on the CSP's partner-eligible building block, which is
then orderable from the three channels.

``play(base_url, admin_key)`` returns what each party sees at the end, and every exchange
(actor, method, path, status) in order; :func:`print_report` shows it as tables.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

PARTNERS = {
    "car-maker": {"name": "Car manufacturer", "channel": ["car-maker-portal"], "api": [
        {"name": "TMF620", "operations": ["list", "retrieve"]}, {"name": "TMF622"}, {"name": "TMF629"},
        {"name": "TMF632"}, {"name": "TMF666"}, {"name": "TMF679"},
        {"name": "TMF637", "operations": ["list", "retrieve", "patch"]},
        {"name": "TMF635", "operations": ["list", "retrieve"]},
        {"name": "TMF678", "operations": ["list", "retrieve", "patch"]}, {"name": "TMF621"},
        {"name": "TMF623", "operations": ["list", "retrieve"]}]},
    "content-provider": {"name": "Infotainment content provider", "channel": ["content-provider-app"], "api": [
        {"name": "TMF620"}, {"name": "TMF637", "operations": ["list", "retrieve"]},
        {"name": "TMF678", "operations": ["list", "retrieve", "patch"]}]},
    "call-center": {"name": "Call center", "channel": [], "api": [
        {"name": "TMF621"}, {"name": "TMF623"}, {"name": "TMF678", "operations": ["list", "retrieve", "patch"]}]},
}
CATALOG = "/tmf-api/productCatalogManagement/v4"
PARTY, CUSTOMER = "/tmf-api/party/v4", "/tmf-api/customerManagement/v4"
ACCOUNT, INVENTORY = "/tmf-api/accountManagement/v4", "/tmf-api/productInventory/v4"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
USAGE, BILLS = "/tmf-api/usageManagement/v4", "/tmf-api/customerBillManagement/v4"
TICKET, SLA = "/tmf-api/troubleTicket/v4/troubleTicket", "/tmf-api/slaManagement/v4"
MERGE = {"content-type": "application/merge-patch+json"}


class StepFailed(RuntimeError):
    pass


@dataclass
class Exchange:
    part: str
    actor: str
    method: str
    path: str
    status: int


@dataclass
class Report:
    exchanges: list[Exchange] = field(default_factory=list)
    seen: dict[str, Any] = field(default_factory=dict)


class _Actor:
    """One party's HTTP client: its key on every request, every exchange recorded."""

    def __init__(self, client: httpx.Client, name: str, key: str, report: Report):
        self.client, self.name, self.key, self.report = client, name, key, report
        self.part = ""

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.report.exchanges.append(Exchange(self.part, self.name, method, path, response.status_code))
        wanted = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in wanted:
            raise StepFailed(f"{self.name}: {method} {path} answered {response.status_code}, expected "
                             f"{' or '.join(map(str, wanted))}: {response.text[:600]}")
        return response.json() if response.content else None


def _org(actor: _Actor, party_id: str, name: str, account: str) -> None:
    actor.call("POST", f"{PARTY}/organization", json={"id": party_id, "tradingName": name, "name": name})
    actor.call("POST", f"{ACCOUNT}/billingAccount", json={"id": account, "name": name, "relatedParty": [
        {"id": party_id, "name": name, "role": "owner", "@referredType": "Organization"}]})


def _item(item_id: str, offering: str, characteristics: dict[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "action": "add", "quantity": 1, "productOffering": {"id": offering}}
    if characteristics:
        item["product"] = {"productCharacteristic": [{"name": k, "value": v} for k, v in characteristics.items()]}
    return item


def _instant(at: dt.datetime) -> str:
    """An instant as the APIs write it, to the second."""
    return at.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _complete(csp: _Actor, order: dict[str, Any]) -> dict[str, Any]:
    """The CSP completes a partner's order, starting its products at the date the order asks
    (a partner cannot backdate its products itself: the operator gives their startDate)."""
    order_id = order["id"]
    starts = [{"id": item["id"], "action": "add", "product": {"startDate": order["requestedStartDate"]}}
              for item in order["productOrderItem"]]
    csp.call("PATCH", f"{ORDER}/{order_id}", json={"state": "inProgress"}, headers=MERGE)
    done: dict[str, Any] = csp.call("PATCH", f"{ORDER}/{order_id}", json={"state": "completed",
                                                                          "productOrderItem": starts}, headers=MERGE)
    if done["state"] != "completed":
        raise StepFailed(f"order {order_id} did not complete: {done.get('note')}")
    return done


def play(client: httpx.Client, admin_key: str) -> Report:
    """Play every step with ``client`` (an httpx client, or a TestClient, on the API's base URL)."""
    report = Report()
    # The scenario is the current month: the products start on its first day (the orders ask
    # for it and the CSP starts them then), and the month's usage, spread from that day to now,
    # is dated in their period and never ahead of its arrival (the operator refuses usage from
    # the future: BSSRULES_USAGE_FUTURE_TOLERANCE).
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    month = now.strftime("%Y-%m")
    first_day = dt.datetime(now.year, now.month, 1, tzinfo=dt.timezone.utc)
    report.seen["month"] = month
    operator = _Actor(client, "operator", admin_key, report)
    operator.part = "Part 1 · setup and billing"
    created = operator.call("POST", "/tmf-api/partnerManagement/v4/partner", json={
        "id": "csp", "name": "Communications service provider", "role": "admin"})
    csp = _Actor(client, "csp", created["apiKey"], report)
    csp.part = operator.part
    actors = {"csp": csp}
    for partner_id, spec in PARTNERS.items():
        answer = csp.call("POST", "/tmf-api/partnerManagement/v4/partner", json={
            "id": partner_id, "name": spec["name"], "channel": spec["channel"],
            "apiBundle": {"name": f"{partner_id}-bundle", "api": spec["api"]}})
        actors[partner_id] = _Actor(client, partner_id, answer["apiKey"], report)
        actors[partner_id].part = operator.part
    car_maker, provider, call_center = actors["car-maker"], actors["content-provider"], actors["call-center"]

    def part(title: str) -> None:
        for actor in actors.values():
            actor.part = title

    part("Part 1 · setup and billing")
    # The car manufacturer is a customer of the CSP, with its billing account.
    _org(car_maker, "car-maker", "Car manufacturer", "ba-car-maker")
    car_maker.call("POST", f"{CUSTOMER}/customer", json={"id": "cust-car-maker", "name": "Car manufacturer",
                                                         "engagedParty": {"id": "car-maker", "@referredType": "Organization"}})
    b2b = [{"id": "car-maker", "role": "customer", "@referredType": "Organization"},
           {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}]
    order = car_maker.call("POST", ORDER, json={
        "relatedParty": b2b, "requestedStartDate": f"{month}-01T00:00:00Z",
        "channel": [{"id": "csp-b2b-portal", "role": "sales channel"}],
        "productOrderItem": [_item("1", "car-connectivity-b2b", {"vin": "WVWZZZ1JZXW000001"}),
                             _item("2", "split-billing-option")]})
    _complete(csp, order)
    report.seen["car maker's offer catalog"] = [o["id"] for o in car_maker.call(
        "GET", f"{CATALOG}/productOffering", params={"lifecycleStatus": "Active"})]

    part("Part 2 · service use")
    customers = car_maker.call("GET", f"{CUSTOMER}/customer", params={"engagedParty.id": "driver-1"})
    if customers:
        raise StepFailed("the driver should not be a customer yet")
    car_maker.call("POST", f"{PARTY}/individual", json={"id": "driver-1", "givenName": "Ana", "familyName": "Silva"})
    car_maker.call("POST", f"{ACCOUNT}/billingAccount", json={"id": "ba-driver", "name": "Ana Silva", "relatedParty": [
        {"id": "driver-1", "name": "Ana Silva", "role": "owner", "@referredType": "Individual"}]})
    # The driver bought the car: they become the user of its connectivity.
    connectivity = next(p for p in car_maker.call("GET", f"{INVENTORY}/product", params={"relatedParty.id": "car-maker"})
                        if p["productOffering"]["id"] == "car-connectivity-b2b")
    car_maker.call("PATCH", f"{INVENTORY}/product/{connectivity['id']}", headers=MERGE, json={
        "relatedParty": connectivity["relatedParty"] + [{"id": "driver-1", "role": "user",
                                                         "@referredType": "Individual"}]})
    parties = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"},
               {"id": "driver-1", "role": "driver", "@referredType": "Individual"},
               {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}]
    order = car_maker.call("POST", ORDER, json={
        "relatedParty": parties, "requestedStartDate": f"{month}-01T00:00:00Z",
        "channel": [{"id": "car-maker-portal", "role": "sales channel"}],
        "productOrderItem": [_item("1", "infotainment-connectivity", {"monthlyVolume": 5})]})
    _complete(csp, order)
    package = next(p for p in car_maker.call("GET", f"{INVENTORY}/product", params={"relatedParty.id": "driver-1"})
                   if p["productOffering"]["id"] == "infotainment-connectivity")
    # The CSP's mediation sends a month of the car's usage: infotainment and telematics.
    usage = []
    for day in range(1, 31):
        start = _instant(first_day + (now - first_day) * day / 31)
        usage.append({"id": f"info-{day}", "usageDate": start, "usageType": "data", "usageCharacteristic": [
            {"name": "productId", "value": package["id"]}, {"name": "service", "value": "infotainment"},
            {"name": "volume", "value": 0.5 if day % 3 else 1.5}, {"name": "unit", "value": "GB"},
            {"name": "roaming", "value": day in (12, 13)}]})
        usage.append({"id": f"tele-{day}", "usageDate": start, "usageType": "data", "usageCharacteristic": [
            {"name": "productId", "value": package["id"]}, {"name": "service", "value": "telematics"},
            {"name": "volume", "value": 0.2}, {"name": "unit", "value": "GB"}]})
    rated = csp.call("POST", f"{USAGE}/usage", json=usage)
    report.seen["usage rated"] = sum(1 for u in rated if u["status"] == "rated")
    report.seen["car maker's usage view"] = len(car_maker.call("GET", f"{USAGE}/usage", params={"limit": 1000}))
    report.seen["running totals"] = csp.call("GET", f"{USAGE}/aggregatedUsage", params={
        "product": package["id"], "groupBy": "billingAccount,service"})["total"]

    part("Part 3 · tickets, SLA and settlement")
    ticket = call_center.call("POST", TICKET, json={"description": "The car's telematics box reports no network",
                                                    "severity": "major", "ticketType": "telematics",
                                                    "relatedEntity": [{"id": package["id"], "role": "product",
                                                                       "@referredType": "Product"}]})
    # Misdirected: the car manufacturer finds a connectivity fault and redirects it to the CSP.
    car_maker.call("PATCH", f"{TICKET}/{ticket['id']}", headers=MERGE, json={
        "status": "inProgress", "note": [{"text": "The telematics box is fine: no network attachment."}]})
    car_maker.call("PATCH", f"{TICKET}/{ticket['id']}", headers=MERGE, json={
        "relatedParty": [{"id": "csp", "role": "assignee", "@referredType": "Organization"}],
        "statusChangeReason": "connectivity fault, redirected to the CSP"})
    csp.call("PATCH", f"{TICKET}/{ticket['id']}", headers=MERGE, json={
        "status": "resolved", "note": [{"text": "APN profile restored on the embedded SIM."}]})
    call_center.call("PATCH", f"{TICKET}/{ticket['id']}", headers=MERGE, json={"status": "closed"})
    second = call_center.call("POST", TICKET, json={"description": "No data while roaming", "severity": "minor",
                                                    "ticketType": "roaming"})
    csp.call("PATCH", f"{TICKET}/{second['id']}", headers=MERGE, json={"status": "resolved"})
    call_center.call("PATCH", f"{TICKET}/{second['id']}", headers=MERGE, json={"status": "closed"})
    sla = csp.call("POST", f"{SLA}/sla", json={
        "id": "sla-connectivity", "name": "Connected car availability", "ruleSet": {"id": "call-center-sla"},
        "relatedParty": [{"id": "csp", "role": "provider"}, {"id": "call-center", "role": "consumer"},
                         {"id": "car-maker", "role": "consumer"}]})
    call_center.call("POST", f"{SLA}/slaMeasurement", json={"sla": {"id": sla["id"]}, "metric": "availability",
                                                             "window": "month", "value": 97.9,
                                                             "observedAt": _instant(now)})

    part("Part 4 · a converged offer")
    eligible = provider.call("GET", f"{CATALOG}/productOffering", params={"partnerEligible": "true"})
    if "data-5gb" not in [o["id"] for o in eligible]:
        raise StepFailed("the CSP's partner-eligible building block is not in the central catalog")
    provider.call("POST", f"{CATALOG}/productOfferingPrice", json={
        "id": "radio-access-monthly", "name": "Radio access per month", "priceType": "recurring",
        "recurringChargePeriodType": "month", "price": {"unit": "EUR", "value": 3.99}})
    provider.call("POST", f"{CATALOG}/productOffering", json={
        "id": "radio-access", "name": "Access to internet radios", "isSellable": False,
        "productSpecification": {"id": "music-streaming"}, "channel": [{"id": "content-provider-app"}],
        "productOfferingPrice": [{"id": "radio-access-monthly"}]})
    provider.call("POST", f"{CATALOG}/productOfferingPrice", json={
        "id": "radio-5gb-monthly", "name": "5 GB internet radio per month", "priceType": "recurring",
        "recurringChargePeriodType": "month", "price": {"unit": "EUR", "value": 10.99}})
    provider.call("POST", f"{CATALOG}/productOffering", json={
        "id": "radio-5gb", "name": "5 GB internet radio", "isBundle": True,
        "category": [{"id": "converged"}], "lifecycleStatus": "Active",
        "validFor": {"startDateTime": "2026-03-01T00:00:00Z"},
        "channel": [{"id": "csp-shop"}, {"id": "car-maker-portal"}, {"id": "content-provider-app"}],
        "bundledProductOffering": [{"id": "data-5gb", "bundledProductOfferingOption": {
            "numberRelOfferLowerLimit": 1, "numberRelOfferUpperLimit": 1}},
                                   {"id": "radio-access", "bundledProductOfferingOption": {
                                       "numberRelOfferLowerLimit": 1, "numberRelOfferUpperLimit": 1}}],
        "productOfferingPrice": [{"id": "radio-5gb-monthly"}]})
    for actor in (csp, car_maker):  # both verify it in the central catalog
        actor.call("GET", f"{CATALOG}/productOffering/radio-5gb")
    order = car_maker.call("POST", ORDER, json={
        "relatedParty": parties[:1] + [{"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}],
        "requestedStartDate": f"{month}-01T00:00:00Z",
        "channel": [{"id": "car-maker-portal", "role": "sales channel"}],
        "productOrderItem": [{**_item("1", "radio-5gb"), "productOrderItem": [
            _item("1.1", "data-5gb", {"volume": 5}), _item("1.2", "radio-access")]}]})
    _complete(csp, order)
    owned = provider.call("GET", f"{INVENTORY}/product", params={"productOffering.id": "radio-5gb"})
    report.seen["content provider sees the radio subscription"] = bool(owned)

    part("End of the month")
    report.seen["bill run"] = [csp.call("POST", f"{BILLS}/billRun", json={"period": month})]
    report.seen["settlement run"] = [csp.call("POST", f"{BILLS}/settlementRun", json={"period": month})]
    for name, actor, account in (("car maker", car_maker, "ba-car-maker"), ("driver (via the car maker)", car_maker,
                                                                            "ba-driver")):
        bills = actor.call("GET", f"{BILLS}/customerBill", params={"billingAccount.id": account})
        items = actor.call("GET", f"{BILLS}/appliedCustomerBillingRate", params={"billingAccount.id": account,
                                                                                  "limit": 1000})
        report.seen[f"{name}'s invoice"] = {"bills": bills, "items": items}
    notes = {}
    for partner_id, actor in (("car-maker", car_maker), ("content-provider", provider), ("call-center", call_center)):
        notes[partner_id] = actor.call("GET", f"{BILLS}/customerBill", params={"category": "settlement"})
    report.seen["settlement notes"] = notes
    for note in notes["call-center"]:  # the car manufacturer pays the call center after it accepts
        car_maker.call("PATCH", f"{BILLS}/customerBill/{note['id']}", headers=MERGE, json={"state": "validated"})
        car_maker.call("PATCH", f"{BILLS}/customerBill/{note['id']}", headers=MERGE, json={"state": "settled"})
    report.seen["tickets"] = call_center.call("GET", TICKET)
    report.seen["SLA report"] = call_center.call("GET", f"{SLA}/slaReport", params={"sla": sla["id"], "period": month})
    report.seen["call center's notes after payment"] = call_center.call("GET", f"{BILLS}/customerBill",
                                                                        params={"category": "settlement"})
    return report


def _count(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _money(value: Any) -> str:
    return f"{Decimal(str(value['value'])):.2f} {value['unit']}"


def print_report(report: Report, console: Console) -> None:
    """What each party sees at the end, as tables."""
    from rich.table import Table

    for name in ("car maker's invoice", "driver (via the car maker)'s invoice"):
        seen = report.seen[name]
        for bill in seen["bills"]:
            table = Table(title=f"{name.replace(chr(39) + 's invoice', '')}: bill {bill['id']} — "
                                f"{_money(bill['amountDue'])}")
            for column in ("item", "type", "product", "amount"):
                table.add_column(column, justify="right" if column == "amount" else "left")
            for item in seen["items"]:
                if item["bill"]["id"] == bill["id"]:
                    table.add_row(item["name"], item["appliedBillingRateType"], item["product"]["id"][:8],
                                  _money(item["taxIncludedAmount"]))
            console.print(table)
    table = Table(title="Settlement notes (as each partner sees them)")
    for column in ("seen by", "note", "state", "amount"):
        table.add_column(column)
    for partner_id, notes in report.seen["settlement notes"].items():
        for note in notes:
            table.add_row(partner_id, note["id"], note["state"], _money(note["amountDue"]))
    for note in report.seen["call center's notes after payment"]:
        table.add_row("call-center (after payment)", note["id"], note["state"], _money(note["remainingAmount"]))
    console.print(table)
    table = Table(title="Trouble tickets (call center's view)")
    for column in ("ticket", "type", "status", "assignee", "history"):
        table.add_column(column)
    for ticket in report.seen["tickets"]:
        assignee = next((p["id"] for p in ticket["relatedParty"] if p["role"] == "assignee"), "")
        table.add_row(ticket["id"][:8], ticket["ticketType"], ticket["status"], assignee,
                      " → ".join(s["status"] for s in ticket.get("statusChange", [])))
    console.print(table)
    sla = report.seen["SLA report"]
    table = Table(title=f"SLA report {sla['sla']['id']} · {report.seen['month']}: "
                        f"{_count(sla['violationCount'], 'violation')}")
    for column in ("rule", "metric", "severity", "count"):
        table.add_column(column)
    for row in sla["byRule"]:
        table.add_row(row["rule"], row["metric"], row["severity"], str(row["count"]))
    console.print(table)
    parties = len({e.actor for e in report.exchanges})
    console.print(f"{_count(len(report.exchanges), 'API call')} by {parties} {'party' if parties == 1 else 'parties'}; "
                  f"{_count(report.seen['usage rated'], 'usage record')} rated; the content provider "
                  f"{'sees' if report.seen['content provider sees the radio subscription'] else 'does NOT see'} "
                  "the radio subscription it must activate.")


__all__ = ["play", "print_report", "Report", "Exchange", "StepFailed"]
