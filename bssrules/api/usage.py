"""TMF635 usage (rated on arrival), TMF654 buckets, TMF677 usage consumption, and the
extensions the standards lack (seed 003): aggregated usage so far and accumulators."""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.routing import Route

from bssrules.services import usage as service
from bssrules.services.known_keys import KeptPrincipal, PartnerMoved
from bssrules.api.auth import authenticate_again
from bssrules.api.answers import many as answers, one as answer
from bssrules.api.deps import JSON_TYPES, _problem, id_problem, in_unit_of_work, json_body, read_json
from bssrules.api.fastcheck import compile_check
from bssrules.api.openapi_parts import FIELDS, PAGED, PAGING, filtering, query_parameter, request_body
from bssrules.api.query import ListQuery, page_headers, paging, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location, sent_json
from bssrules.api.tmfspec import error_responses, json_response, spec
from bssrules.errors import InvalidInput

TMF635 = spec("TMF635-Usage-v4.0.0.swagger.json", "TMF635_")
TMF654 = spec("TMF654-PrepayBalance-v4.1.0.swagger.json", "TMF654_")
TMF677 = spec("TMF677-UsageConsumption-v4.0.0.swagger.json", "TMF677_")
MAX_BATCH = 1000
# proves most usages conform at a fraction of jsonschema's cost; jsonschema says what is wrong
_CONFORMS = compile_check(TMF635.definitions, "Usage_Create")
_GROUPS = ("service", "billingAccount", "product", "payerRole")
_AGGREGATED_PARAMETERS = [
    query_parameter("billingAccount", "Billing account ids, comma-separated (or the parameter repeated); "
                                      "billingAccount or product (or both) is required"),
    query_parameter("product", "Inventory product ids, comma-separated (or the parameter repeated)"),
    query_parameter("start", "From this date-time (with its offset), or this date at midnight in the time zone "
                             "the asked products' accumulators count in (their usage rule sets'; a 400 when "
                             "those differ), included"),
    query_parameter("end", "Until this date-time, or this date at midnight in that time zone, excluded"),
    query_parameter("groupBy", f"Totals per {', '.join(_GROUPS)} (comma-separated); one total per currency when "
                               "absent"),
]


async def _usage_bodies(request: Request) -> tuple[list[dict[str, Any]], bool]:
    """One Usage_Create object, or an array of them (at most MAX_BATCH); (bodies, was a list)."""
    body = await read_json(request, JSON_TYPES)
    many = isinstance(body, list)
    bodies = body if many else [body]
    if body is None or not bodies or not all(isinstance(b, dict) for b in bodies):
        raise InvalidInput("the body is a Usage object or a non-empty array of them")
    if len(bodies) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} usages per request, got {len(bodies)}")
    details = []
    for index, item in enumerate(bodies):
        problem = id_problem(item["id"]) if isinstance(item.get("id"), str) else None  # (not text: the schema says)
        if problem is not None:
            details.append((f"[{index}]." if many else "") + problem)
        if _CONFORMS(item):
            continue
        for error in TMF635.validator("Usage_Create").iter_errors(item):
            details.append((f"[{index}]." if many else "") + _problem(error))
    if details:
        raise InvalidInput("the body does not conform to Usage_Create: " + "; ".join(details), details=details)
    return bodies, many


async def create_usage(request: Request) -> Response:
    """``POST /usage``: one usage (rated with the others this worker is rating at the same
    moment) or an array of them (rated as one batch)."""
    bodies, many = await _usage_bodies(request)
    try:
        return await _create(request, bodies, many)
    except PartnerMoved:  # the key was kept by this worker and its partner changed: nothing written
        again = await authenticate_again(request.scope)
        if isinstance(again, Response):  # 401: revoked, or its partner gone; 403
            return again
        return await _create(request, bodies, many)  # (as a plain lookup's partner: not checked again)


async def _create(request: Request, bodies: list[dict[str, Any]], many: bool) -> Response:
    principal = getattr(request.state, "principal", None)
    if many:
        runtimes, contexts = request.app.state.runtime_cache, request.app.state.rating_contexts
        check = principal.check if isinstance(principal, KeptPrincipal) else None
        texts = await in_unit_of_work(request, service.create_usage_texts, runtimes, contexts, bodies, check)
        # 200 when every usage was stored already (a batch re-sent whole), as a single re-sent usage
        return _json_array([text for text, _ in texts], status_code=201 if any(new for _, new in texts) else 200)
    combiner = request.app.state.usage_combiner
    usage, created = await combiner.create_async(principal, bodies[0])
    return sent_json(usage, status_code=201 if created else 200,
                     headers={"Location": location(usage["href"])})


# a lone surrogate (read_json refuses one in a body; a usage stored by other means could hold one)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_array(texts: list[str], status_code: int) -> Response:
    """The JSON texts of usages (as the service wrote them) as one array; a lone surrogate,
    which UTF-8 cannot carry, written as its JSON escape."""
    text = "[" + ", ".join(texts) + "]"
    try:
        content = text.encode("utf-8")
    except UnicodeEncodeError:
        content = _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text).encode("utf-8")
    return Response(content, status_code=status_code, media_type="application/json")


def usage_fast_route() -> Route:
    """``POST /usage`` as a plain Starlette route, matched before every other: the online
    charging path does not go through FastAPI's route machinery (dependency solving, its
    request wrapper: measured about 0.2 ms of a worker per request, as much as rating a
    usage). The handler is the one :func:`usage_router` documents in the OpenAPI document;
    errors reach the same exception handlers."""
    return Route(f"{service.API}/usage", create_usage, methods=["POST"], include_in_schema=False)


_ACCUMULATOR_ATTRIBUTES = ("id", "accumulator", "subscriber", "period", "volume", "amount", "reached")


def _accumulator_fields(raw: str | None) -> tuple[str, ...] | None:
    """The attributes ``fields=`` asks of an accumulator (None: all); another name is a 400."""
    if raw is None:
        return None
    names = tuple(f.strip() for f in raw.split(",") if f.strip())
    for name in names:
        if name not in _ACCUMULATOR_ATTRIBUTES:
            from bssrules.errors import did_you_mean
            raise InvalidInput(f"fields: an accumulator has no attribute {name!r} (it has "
                               f"{', '.join(_ACCUMULATOR_ATTRIBUTES)})", path=("fields",),
                               suggestion=did_you_mean(name, _ACCUMULATOR_ATTRIBUTES))
    return names


def usage_router() -> APIRouter:
    router = APIRouter(prefix=service.API, tags=["usage"])
    one = {"$ref": TMF635.ref("Usage")}
    errors = error_responses(TMF635)

    @router.post("/usage", operation_id="createUsage", status_code=201, response_class=TMFJSONResponse,
                 summary="Post a usage (or an array of usages): each is stored rated or rejected, never dropped",
                 responses={201: json_response(one, "Created and rated (or rejected with rejectionReason)"),
                            200: json_response(one, "Already received (same id): the stored usage"), **errors},
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "oneOf": [{"$ref": TMF635.ref("Usage_Create")},
                               {"type": "array", "items": {"$ref": TMF635.ref("Usage_Create")}}]}}}}})
    async def create(request: Request) -> Response:
        return await create_usage(request)

    @router.get("/usage", operation_id="listUsage", summary="List usages", response_class=TMFJSONResponse,
                description=filtering("Usage"),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_(request: Request) -> Response:
        query = parse_list_query(request.query_params, "Usage", TMF635)
        items, total = await in_unit_of_work(request, service.list_usage, query.filters, query.offset, query.limit)
        return TMFJSONResponse([project(i, query.fields) for i in items],
                               headers=page_headers(request, query, len(items), total))

    @router.get("/usage/{id}", operation_id="retrieveUsage", summary="Retrieve a usage",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, "Usage", TMF635)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_usage, id), fields))

    @router.get("/aggregatedUsage", operation_id="retrieveAggregatedUsage", response_class=TMFJSONResponse,
                summary="What rated usage comes to so far, per payer or product and period (extension)",
                description="One answer, not a list: any query parameter but these is a 400.",
                responses={200: json_response(answer("AggregatedUsage"), "Success"), **errors},
                openapi_extra={"parameters": _AGGREGATED_PARAMETERS})
    async def aggregated(request: Request) -> Response:
        params = request.query_params
        by = [b for value in params.getlist("groupBy") for b in value.split(",") if b]
        accounts = [a for value in params.getlist("billingAccount") for a in value.split(",") if a] or None
        products = [p for value in params.getlist("product") for p in value.split(",") if p] or None
        unknown = sorted(set(params) - {p["name"] for p in _AGGREGATED_PARAMETERS})
        if unknown:
            raise InvalidInput(f"unknown query parameter {unknown[0]!r}; use billingAccount, product, start, end, "
                               f"groupBy", path=(unknown[0],))
        return TMFJSONResponse(await in_unit_of_work(request, service.aggregated_usage, request.app.state.runtime_cache,
                                                     accounts, products, params.get("start"), params.get("end"), by))

    @router.get("/accumulator", operation_id="listAccumulator", response_class=TMFJSONResponse,
                summary="A product's running totals per period, with the thresholds reached (extension)",
                description="Filter by product (required); any other query parameter but fields, offset and limit "
                            "is a 400. " + PAGED,
                responses={200: json_response(answers("Accumulator"), "Success"), **errors},
                openapi_extra={"parameters": [query_parameter("product", "The inventory product", required=True),
                                              FIELDS, *PAGING]})
    async def accumulators(request: Request) -> Response:
        product = request.query_params.get("product")
        unknown = sorted(set(request.query_params) - {"product", "fields", *(p["name"] for p in PAGING)})
        if unknown:
            raise InvalidInput(f"unknown query parameter {unknown[0]!r}; use product, fields, offset, limit",
                               path=(unknown[0],))
        if not product:
            raise InvalidInput("name the product: ?product=<inventory product id>", path=("product",))
        fields = _accumulator_fields(request.query_params.get("fields"))
        query = ListQuery(None, *paging(request.query_params), {"product": [product]})
        found = await in_unit_of_work(request, service.list_accumulators, product)
        page = found[query.offset:query.offset + query.limit]
        return TMFJSONResponse([project(a, fields) for a in page],
                               headers=page_headers(request, query, len(page), len(found)))

    return router


def bucket_router() -> APIRouter:
    router = APIRouter(prefix=service.BUCKET_API, tags=["bucket"])
    one = {"$ref": TMF654.ref("Bucket")}
    errors = error_responses(TMF654)

    @router.post("/bucket", operation_id="createBucket", status_code=201, response_class=TMFJSONResponse,
                 summary="Give a product a balance of units or money",
                 responses={201: json_response(one, "Created"), **errors},
                 openapi_extra=request_body(TMF654.ref("Bucket_Create"), JSON_TYPES))
    async def create(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, "Bucket_Create", spec=TMF654)
        bucket = await in_unit_of_work(request, service.create_bucket, body)
        return TMFJSONResponse(bucket, status_code=201, headers={"Location": location(bucket["href"])})

    @router.get("/bucket", operation_id="listBucket", summary="List buckets", response_class=TMFJSONResponse,
                description=filtering("Bucket"),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_(request: Request) -> Response:
        query = parse_list_query(request.query_params, "Bucket", TMF654)
        items, total = await in_unit_of_work(request, service.list_buckets, query.filters, query.offset, query.limit)
        return TMFJSONResponse([project(i, query.fields) for i in items],
                               headers=page_headers(request, query, len(items), total))

    @router.get("/bucket/{id}", operation_id="retrieveBucket", summary="Retrieve a bucket",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, "Bucket", TMF654)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_bucket, id), fields))

    @router.delete("/bucket/{id}", operation_id="deleteBucket", status_code=204, summary="Delete a bucket",
                   responses={204: {"description": "Deleted"}, **errors})
    async def delete(request: Request, id: str) -> Response:
        await in_unit_of_work(request, service.delete_bucket, id)
        return Response(status_code=204)

    return router


def consumption_router() -> APIRouter:
    router = APIRouter(prefix="/tmf-api/usageConsumption/v4", tags=["queryUsageConsumption"])
    errors = error_responses(TMF677)

    @router.post("/queryUsageConsumption", operation_id="createQueryUsageConsumption", status_code=201,
                 response_class=TMFJSONResponse, summary="The buckets of a product: what is left and what was used",
                 responses={201: json_response({"$ref": TMF677.ref("QueryUsageConsumption")}, "Answered"), **errors},
                 openapi_extra=request_body(TMF677.ref("QueryUsageConsumption_Create"), JSON_TYPES))
    async def query(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, "QueryUsageConsumption_Create", spec=TMF677)
        created = await in_unit_of_work(request, service.query_usage_consumption, body)
        return TMFJSONResponse(created, status_code=201, headers={"Location": location(created["href"])})

    one = {"$ref": TMF677.ref("QueryUsageConsumption")}

    @router.get("/queryUsageConsumption", operation_id="listQueryUsageConsumption",
                summary="The queries made, each with what it answered", response_class=TMFJSONResponse,
                description=filtering("QueryUsageConsumption"),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_queries(request: Request) -> Response:
        query = parse_list_query(request.query_params, "QueryUsageConsumption", TMF677)
        items, total = await in_unit_of_work(request, service.list_usage_consumptions, query.filters, query.offset,
                                             query.limit)
        headers = page_headers(request, query, len(items), total)
        return TMFJSONResponse([project(i, query.fields) for i in items], headers=headers)

    @router.get("/queryUsageConsumption/{id}", operation_id="retrieveQueryUsageConsumption",
                summary="A query made, with what it answered then", response_class=TMFJSONResponse,
                responses={200: json_response(one, "Success"), **errors}, openapi_extra={"parameters": [FIELDS]})
    async def retrieve_query(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, "QueryUsageConsumption", TMF677)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_usage_consumption, id), fields))

    @router.delete("/queryUsageConsumption/{id}", operation_id="deleteQueryUsageConsumption",
                   summary="Delete a query made", status_code=204,
                   responses={204: {"description": "Deleted"}, **errors})
    async def delete_query(request: Request, id: str) -> Response:
        await in_unit_of_work(request, service.delete_usage_consumption, id)
        return Response(status_code=204)

    return router
