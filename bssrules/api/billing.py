"""TMF678 customer bills and their items, and the bill run that makes them (extension:
``POST /billRun`` with ``{"period": "YYYY-MM"}``)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bssrules.services import billing as service
from bssrules.services import settlement as settlement_service
from bssrules.api import bodies
from bssrules.api.answers import one as answer
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.errors import error_response
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse
from bssrules.api.tmfspec import error_responses, json_response, spec
from bssrules.errors import InvalidInput

TMF678 = spec("TMF678-Customer_Bill-v4.0.0.swagger.json", "TMF678_")


def billing_router() -> APIRouter:
    router = APIRouter(prefix=service.API, tags=["customerBill"])
    errors = error_responses(TMF678)

    @router.post("/billRun", operation_id="createBillRun", status_code=201, response_class=TMFJSONResponse,
                 summary="Bill a month: one bill per billing account and currency; re-running bills nothing twice",
                 responses={201: json_response(answer("BillRun"), "Run: the bills made"), **errors},
                 openapi_extra=request_body(bodies.ref("BillRun_Create"), JSON_TYPES))
    async def bill_run(request: Request) -> Response:
        principal = getattr(request.state, "principal", None)
        if principal is not None and not principal.is_admin:
            return error_response(403, "forbidden", "bill runs are the operator's: only an administrator starts one")
        body = await json_body(request, JSON_TYPES, None)
        unknown = sorted(set(body) - {"period", "billingAccount"})
        if unknown:
            raise InvalidInput(f"unsupported field {unknown[0]!r}; a bill run takes period (YYYY-MM) and optionally "
                               "billingAccount [{id}]", path=(unknown[0],))
        period = body.get("period")
        if not isinstance(period, str):
            raise InvalidInput("period is required: the month to bill, YYYY-MM", path=("period",))
        accounts = body.get("billingAccount")
        ids = None
        if accounts is not None:
            if not isinstance(accounts, list) or not all(isinstance(a, dict) and isinstance(a.get("id"), str)
                                                         for a in accounts):
                raise InvalidInput("billingAccount is a list of {id}", path=("billingAccount",))
            ids = [a["id"] for a in accounts]
        return TMFJSONResponse(await in_unit_of_work(request, service.run_bills, period, ids), status_code=201)

    @router.post("/settlementRun", operation_id="createSettlementRun", status_code=201,
                 response_class=TMFJSONResponse,
                 summary="Issue the month's settlement notes between partners, computed by the settlement rules",
                 responses={201: json_response(answer("SettlementRun"), "Run: the notes made"), **errors},
                 openapi_extra=request_body(bodies.ref("SettlementRun_Create"), JSON_TYPES))
    async def settlement_run(request: Request) -> Response:
        principal = getattr(request.state, "principal", None)
        if principal is not None and not principal.is_admin:
            return error_response(403, "forbidden", "settlement runs are the operator's: only an administrator "
                                                    "starts one")
        body = await json_body(request, JSON_TYPES, None)
        if not isinstance(body.get("period"), str):
            raise InvalidInput("a settlement run takes period: the month, YYYY-MM", path=("period",))
        unknown = sorted(set(body) - {"period"})
        if unknown:
            raise InvalidInput(f"unsupported field {unknown[0]!r}; a settlement run takes period (YYYY-MM) only",
                               path=(unknown[0],))
        cache = request.app.state.runtime_cache
        return TMFJSONResponse(await in_unit_of_work(
            request, lambda uow: settlement_service.run_settlement(uow, cache.get(uow), body["period"])),
            status_code=201)

    @router.patch("/customerBill/{id}", operation_id="patchCustomerBill", response_class=TMFJSONResponse,
                  summary="Accept (validated), dispute (onHold), re-issue (sent) or pay (settled) a settlement note",
                  responses={200: json_response({"$ref": TMF678.ref("CustomerBill")}, "Updated"), **errors},
                  openapi_extra=request_body(bodies.ref("SettlementNote_Update"), PATCH_TYPES))
    async def patch_bill(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, "CustomerBill_Update", merge_patch=True, spec=TMF678)
        return TMFJSONResponse(await in_unit_of_work(request, settlement_service.change_bill_state, id, body))

    for name, definition, lister, getter in (
            ("customerBill", "CustomerBill", service.list_bills, service.get_bill),
            ("appliedCustomerBillingRate", "AppliedCustomerBillingRate", service.list_rates, service.get_rate)):
        one = {"$ref": TMF678.ref(definition)}

        def add(name: str = name, definition: str = definition, lister=lister, getter=getter,  # type: ignore[no-untyped-def]
                one: dict[str, Any] = one) -> None:
            @router.get(f"/{name}", operation_id=f"list{definition}", summary=f"List {name}s",
                        description=filtering(definition), response_class=TMFJSONResponse,
                        responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                        openapi_extra={"parameters": [FIELDS, *PAGING]})
            async def list_(request: Request) -> Response:
                query = parse_list_query(request.query_params, definition, TMF678)
                items, total = await in_unit_of_work(request, lister, query.filters, query.offset, query.limit)
                return TMFJSONResponse([project(i, query.fields) for i in items],
                                       headers=page_headers(request, query, len(items), total))

            @router.get(f"/{name}/{{id}}", operation_id=f"retrieve{definition}", summary=f"Retrieve a {name}",
                        response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                        openapi_extra={"parameters": [FIELDS]})
            async def retrieve(request: Request, id: str) -> Response:
                fields = parse_fields(request.query_params, definition, TMF678)
                return TMFJSONResponse(project(await in_unit_of_work(request, getter, id), fields))

        add()
    return router
