"""FastAPI integration: run projcache as a supervised sidecar of the app and serve SkillMeat's
cache routes through the app's own port, behind the app's own auth.

    from projcache.fastapi import Projcache
    pc = Projcache(home=skillmeat_home)            # every Sidecar option may be passed
    app = FastAPI(lifespan=pc.lifespan)
    app.include_router(pc.router, prefix="/api/v1", dependencies=[Depends(require_auth)])

On FastAPI before 0.93 (no `lifespan=`), `Projcache.install(app, dependencies=[...])` does both.
No pydantic models of our own: it works with pydantic 1 and 2 alike.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
import urllib.parse
from typing import Any, AsyncIterator, Callable, Iterable, List, Optional, Sequence

import httpx
import websockets
from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import JSONResponse
from starlette.routing import WebSocketRoute

from ._binary import BinaryNotFound
from .client import Client, ProjcacheUnavailable
from .events import connect_options, websocket_url
from .sidecar import Sidecar, SidecarError

log = logging.getLogger("projcache")

# Headers that pass through the proxy; hop-by-hop ones and our internal key never do.
REQUEST_HEADERS = ("content-type", "accept", "if-none-match", "x-request-id")
RESPONSE_HEADERS = ("content-type", "etag", "allow", "cache-control", "x-request-id", "upgrade")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


class Projcache:
    """The sidecar's life cycle, a proxying router and the readiness state, for one app."""

    def __init__(self, home: Optional[str] = None, *, required: bool = True, max_restart_delay: float = 30.0,
                 websocket_auth: Optional[Callable[[WebSocket], Any]] = None,
                 websocket_origins: Optional[Iterable[str]] = None, **sidecar_options: Any):
        self.required, self.max_restart_delay = required, max_restart_delay
        self.websocket_auth = websocket_auth
        self.websocket_origins = set(websocket_origins or ())
        # The browser never sees this key: the proxy adds it, so only this app reaches the sidecar.
        self.api_key = sidecar_options.pop("api_key", None) or secrets.token_urlsafe(24)
        sidecar_options.setdefault("host", "127.0.0.1")
        sidecar_options.pop("port", None)  # always an ephemeral port
        self.sidecar_options = dict(sidecar_options, home=home)
        self.restarts = 0
        self.sidecar: Optional[Sidecar] = None
        self._http: Optional[httpx.AsyncClient] = None
        self._why = "projcache has not started yet"
        self._supervisor: Optional[asyncio.Task] = None
        self._stopping = False
        self.router = self._build_router()

    # -- state
    @property
    def available(self) -> bool:
        return self.sidecar is not None and self.sidecar.running() and self._http is not None

    @property
    def why_unavailable(self) -> Optional[str]:
        return None if self.available else self._why

    @property
    def url(self) -> str:
        if not self.available:
            raise ProjcacheUnavailable(self._why)
        assert self.sidecar is not None
        return self.sidecar.url

    def client(self, timeout: float = 60.0) -> Client:
        """A synchronous client of the sidecar (for the CacheManager adapter and scripts)."""
        return Client(self.url, api_key=self.api_key, timeout=timeout)

    # -- lifespan
    def lifespan(self, app: Any) -> contextlib.AbstractAsyncContextManager:
        """FastAPI(lifespan=pc.lifespan): starts the sidecar before the app serves, stops it after."""
        return self._lifespan(app, None)

    def wrap(self, inner: Callable[[Any], contextlib.AbstractAsyncContextManager]) -> Callable[[Any], Any]:
        """A lifespan that runs the app's own lifespan inside ours: FastAPI(lifespan=pc.wrap(mine))."""
        return lambda app: self._lifespan(app, inner)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Any, inner) -> AsyncIterator[Any]:
        await self.start()
        try:
            if inner is None:
                yield None
            else:
                async with inner(app) as state:
                    yield state
        finally:
            await self.stop()

    def install(self, app: Any, prefix: str = "/api/v1", dependencies: Sequence[Any] = ()) -> None:
        """For FastAPI before 0.93: attaches the lifespan around the app's current one (its
        startup/shutdown handlers keep running) and includes the router."""
        app.router.lifespan_context = self.wrap(app.router.lifespan_context)
        app.include_router(self.router, prefix=prefix, dependencies=list(dependencies))

    async def start(self) -> None:
        self._stopping = False
        try:
            sidecar = await asyncio.to_thread(self._new_sidecar().start)
        except (BinaryNotFound, SidecarError) as e:
            self._why = f"projcache is not available: {e}"
            if self.required:
                raise
            log.warning("%s; serving without it (routes answer 503)", self._why)
            return
        self._attach(sidecar)
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        self._stopping = True
        self._why = "projcache is stopping"
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._detach("projcache is stopped")

    def _new_sidecar(self) -> Sidecar:
        return Sidecar(api_key=self.api_key, **self.sidecar_options)

    def _attach(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        timeout = httpx.Timeout(connect=5.0, read=None, write=30.0, pool=None)  # a refresh waits for its scan
        self._http = httpx.AsyncClient(base_url=sidecar.url, headers={"X-API-Key": self.api_key}, timeout=timeout)

    async def _detach(self, why: str) -> None:
        self._why = why
        http, self._http = self._http, None
        sidecar, self.sidecar = self.sidecar, None
        if http is not None:
            await http.aclose()
        if sidecar is not None:
            await asyncio.to_thread(sidecar.stop, 5.0)  # SIGTERM, then kill after 5 s

    async def _supervise(self) -> None:
        """Restarts the sidecar when it exits, with capped exponential backoff."""
        delay = 0.5
        while not self._stopping:
            sidecar = self.sidecar
            if sidecar is None or sidecar.process is None:
                return
            code = await asyncio.to_thread(sidecar.process.wait)
            if self._stopping:
                return
            tail = sidecar.last_stderr().splitlines()[-1:] or ["(no output)"]
            await self._detach(f"projcache exited with {code} and is restarting")
            while not self._stopping:
                log.warning("projcache exited with %s (%s); restarting in %.1f s", code, tail[0], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_restart_delay)
                try:
                    fresh = await asyncio.to_thread(self._new_sidecar().start)
                except (BinaryNotFound, SidecarError) as e:
                    self._why = f"projcache could not be restarted: {e}"
                    continue
                self.restarts += 1
                self._attach(fresh)
                delay = 0.5
                break

    # -- the router
    def _build_router(self) -> APIRouter:
        r = APIRouter()
        # A plain Starlette route: FastAPI gives include_router's dependencies to its own
        # WebSocket routes from 0.9x on, and an HTTP auth dependency (Request, Bearer header)
        # then refuses every upgrade. The relay checks the Origin and websocket_auth itself,
        # the same on every FastAPI version.
        r.routes.append(WebSocketRoute("/cache/events", self._relay_events))
        r.add_api_route("/cache/{path:path}", self._proxy_cache, methods=["GET", "HEAD", "POST", "DELETE"],
                        include_in_schema=False)
        for path, methods in (("/projects/cache/refresh", ["POST"]), ("/projects/cache/stats", ["GET", "HEAD"]),
                              ("/projects/cache/clear", ["POST"])):
            r.add_api_route(path, self._fixed_proxy("/api/v1" + path), methods=methods, include_in_schema=False)
        return r

    def _unavailable(self) -> JSONResponse:
        return JSONResponse({"detail": self._why}, status_code=503)

    async def _proxy_cache(self, path: str, request: Request) -> Response:
        return await self._forward(request, "/api/v1/cache/" + urllib.parse.quote(path, safe="/:@!$&'()*+,;="))

    def _fixed_proxy(self, upstream: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._forward(request, upstream)
        return endpoint

    async def _forward(self, request: Request, upstream: str) -> Response:
        http = self._http
        if http is None or not self.available:
            return self._unavailable()
        headers = {k: v for k, v in request.headers.items() if k.lower() in REQUEST_HEADERS}
        target = upstream + (("?" + request.url.query) if request.url.query else "")
        try:
            res = await http.request(request.method, target, content=await request.body(), headers=headers)
        except httpx.TransportError as e:
            log.warning("projcache did not answer %s %s: %s", request.method, upstream, type(e).__name__)
            return JSONResponse({"detail": "projcache did not answer; it may be restarting, try again shortly"},
                                status_code=503)
        out = {k: v for k, v in res.headers.items() if k.lower() in RESPONSE_HEADERS}
        return Response(content=res.content, status_code=res.status_code, headers=out)

    # -- the WebSocket relay
    def _origin_allowed(self, ws: WebSocket) -> bool:
        origin = ws.headers.get("origin")
        if origin is None or "*" in self.websocket_origins or origin in self.websocket_origins:
            return True
        host = urllib.parse.urlsplit(origin).netloc
        if host and host == ws.headers.get("host"):
            return True  # same origin
        return urllib.parse.urlsplit(origin).hostname in LOOPBACK_HOSTS

    async def _authorized(self, ws: WebSocket) -> bool:
        if not self._origin_allowed(ws):
            return False
        if self.websocket_auth is None:
            return True
        ok = self.websocket_auth(ws)
        return bool(await ok) if inspect.isawaitable(ok) else bool(ok)

    async def _relay_events(self, websocket: WebSocket) -> None:
        if not await self._authorized(websocket):
            await websocket.close(code=1008)
            return
        if not self.available:
            await websocket.close(code=1013)  # try again later
            return
        try:
            upstream = await websockets.connect(websocket_url(self.url), **connect_options(self.api_key))
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake, ProjcacheUnavailable):
            await websocket.close(code=1013)
            return
        await websocket.accept()
        await relay(websocket, upstream)


def close_code_to_send(code: Optional[int]) -> int:
    """1005 and 1006 describe a close and may not be sent in one."""
    return 1011 if code in (None, 1005, 1006) else code


async def relay(client: WebSocket, upstream: Any) -> None:
    """Both ways until either side closes; then the other is closed with the same code."""

    async def downstream() -> None:
        async for message in upstream:
            if isinstance(message, bytes):
                await client.send_bytes(message)
            else:
                await client.send_text(message)

    async def upstream_from_client() -> None:
        while True:
            m = await client.receive()
            if m["type"] == "websocket.disconnect":
                return
            if m.get("text") is not None:
                await upstream.send(m["text"])
            elif m.get("bytes") is not None:
                await upstream.send(m["bytes"])

    tasks: List[asyncio.Task] = [asyncio.create_task(downstream()), asyncio.create_task(upstream_from_client())]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()
    for t in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t
    for t in done:
        with contextlib.suppress(Exception):
            t.result()  # a peer that vanished mid-send is an ordinary end here
    if tasks[0] in done:  # the server closed: tell the client why
        with contextlib.suppress(Exception):
            await client.close(code=close_code_to_send(upstream.close_code), reason=upstream.close_reason or None)
    else:
        with contextlib.suppress(Exception):
            await upstream.close()
