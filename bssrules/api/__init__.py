"""The HTTP edge: FastAPI app factory, TMF routers, error mapping."""
from bssrules.api.app import create_app

__all__ = ["create_app"]
