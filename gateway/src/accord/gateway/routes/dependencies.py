"""What the routes share, read from `app.state`: the gateway's parts and the write keys.

`create_app` sets `app.state.keys` when it builds the application and `app.state.gateway` when
the lifespan opens the Kafka and registry connections. The dependencies are coroutines because
FastAPI runs a plain function dependency on its thread pool: two thread hops per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from accord.gateway.auth import WriteKeyStore
from accord.gateway.ingest import Gateway


async def running_gateway(request: Request) -> Gateway:
    """The gateway of the running application (connected at startup)."""
    gateway: Gateway = request.app.state.gateway
    return gateway


async def write_keys(request: Request) -> WriteKeyStore:
    """The write keys the application accepts."""
    keys: WriteKeyStore = request.app.state.keys
    return keys


GatewayDep = Annotated[Gateway, Depends(running_gateway)]
KeysDep = Annotated[WriteKeyStore, Depends(write_keys)]
