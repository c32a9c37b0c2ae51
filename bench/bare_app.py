"""The baseline for the ingest benchmark: a bare Starlette endpoint that only parses the JSON body.

Run on the same stack as notifbot: `uvicorn bench.bare_app:app --loop uvloop --http httptools --workers 1`.
It validates nothing and stores nothing, so it is the ceiling for any Starlette endpoint on this machine.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def hooks_events(request: Request) -> Response:
    try:
        data = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "body is not valid JSON"}, status_code=400)
    count = len(data) if isinstance(data, list) else 1
    return JSONResponse({"accepted": count}, status_code=202)


async def readyz(_: Request) -> Response:
    return PlainTextResponse("ready\n")


app = Starlette(
    routes=[
        Route("/hooks/events", hooks_events, methods=["POST"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
)
