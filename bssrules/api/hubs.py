"""TMF hub registration on each API that sends events, and the deliveries a partner can
watch (extension: ``GET /tmf-api/partnerManagement/v4/delivery?status=failed``)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bssrules.services import notifications
from bssrules.api import bodies
from bssrules.api.deps import JSON_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import PAGING, query_parameter, request_body
from bssrules.api.query import paging
from bssrules.api.responses import TMFJSONResponse
from bssrules.errors import InvalidInput

# API name -> its base path (the hub lives at <base>/hub)
HUB_APIS = {
    "TMF620": "/tmf-api/productCatalogManagement/v4",
    "TMF621": "/tmf-api/troubleTicket/v4",
    "TMF622": "/tmf-api/productOrderingManagement/v4",
    "TMF623": "/tmf-api/slaManagement/v4",
    "TMF635": "/tmf-api/usageManagement/v4",
    "TMF637": "/tmf-api/productInventory/v4",
    "TMF678": "/tmf-api/customerBillManagement/v4",
}
DELIVERY_STATES = ("pending", "delivered", "failed")


def hub_routers() -> list[APIRouter]:
    routers = []
    for api, base in HUB_APIS.items():
        router = APIRouter(prefix=base, tags=["hub"])

        def add(router: APIRouter = router, api: str = api) -> None:
            @router.post("/hub", operation_id=f"registerListener{api}", status_code=201,
                         response_class=TMFJSONResponse, summary=f"Subscribe a callback to the events of {api}",
                         openapi_extra=request_body(bodies.ref("HubRegistration"), JSON_TYPES))
            async def register(request: Request) -> Response:
                body = await json_body(request, JSON_TYPES, None)
                hub = await in_unit_of_work(request, notifications.register_hub, api, body)
                return TMFJSONResponse(hub, status_code=201, headers={"Location": f"{request.url.path}/{hub['id']}"})

            @router.delete("/hub/{id}", operation_id=f"unregisterListener{api}", status_code=204,
                           summary=f"Unsubscribe from the events of {api}")
            async def unregister(request: Request, id: str) -> Response:
                await in_unit_of_work(request, notifications.delete_hub, api, id)
                return Response(status_code=204)

        add()
        routers.append(router)
    deliveries = APIRouter(prefix="/tmf-api/partnerManagement/v4", tags=["partner"])

    @deliveries.get("/delivery", operation_id="listDelivery", response_class=TMFJSONResponse,
                    summary="The deliveries of events to your hubs: pending, delivered or failed",
                    description="Oldest due first; other query parameters are ignored. The answer is one page: "
                                "offset and limit choose it.",
                    openapi_extra={"parameters": [
                        query_parameter("status", "Only the deliveries in this state", schema={
                            "type": "string", "enum": list(DELIVERY_STATES)}), *PAGING]})
    async def list_deliveries(request: Request) -> Response:
        params = request.query_params
        status = params.get("status")
        if status is not None and status not in DELIVERY_STATES:
            raise InvalidInput("status is pending, delivered or failed", path=("status",))
        offset, limit = paging(params)
        return TMFJSONResponse(await in_unit_of_work(request, notifications.list_deliveries, status, offset, limit))

    routers.append(deliveries)
    return routers
