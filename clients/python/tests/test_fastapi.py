"""projcache.fastapi on Debian 12's FastAPI 0.92 / Starlette 0.26 / httpx 0.23 / uvicorn 0.17,
with the real server behind it and the app's own auth dependency in front."""
import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time

import httpx
import pytest
import uvicorn
import websockets
from fastapi import Depends, FastAPI, HTTPException, Request

from conftest import BINARY, outside_project, pid_of, wait_for
from projcache import Client, ProjcacheError, ProjcacheUnavailable
from projcache.events import connect_options
from projcache.fastapi import Projcache
from projcache.skillmeat import CacheManager

TOKEN = "app-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def require_auth(request: Request) -> None:
    """Stands for SkillMeat's Bearer/Clerk auth: the app's own dependency, run before the proxy."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        raise HTTPException(status_code=401, detail="Not authenticated")


def ws_token(ws) -> bool:
    return ws.query_params.get("token") == TOKEN


def make_app(pc: Projcache, **kw) -> FastAPI:
    app = FastAPI()
    pc.install(app, dependencies=[Depends(require_auth)], **kw)  # lifespan + router, on any FastAPI
    return app


@contextlib.contextmanager
def served(app):
    """uvicorn on an ephemeral loopback port, in a thread; yields its base URL once it has started."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    try:
        assert wait_for(lambda: server.started or not t.is_alive(), 60), "uvicorn did not start"
        assert server.started, "the app failed to start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(30)
        sock.close()
    assert not t.is_alive(), "uvicorn did not stop"


def sidecar_options(world):
    return dict(binary=BINARY, search_roots=[world["dev"]], env={"SKILLMEAT_CACHE_DEBOUNCE_MS": "30"})


def test_every_cache_route_through_the_apps_port_behind_its_auth(world, tmp_path):
    pc = Projcache(home=world["home"], **sidecar_options(world))
    app_id = pid_of(world["app"])
    with served(make_app(pc)) as base, httpx.Client(base_url=base + "/api/v1", headers=AUTH, timeout=60) as http:
        # The app's auth runs first, and the sidecar itself wants the internal key.
        assert httpx.get(base + "/api/v1/cache/status").status_code == 401
        with pytest.raises(ProjcacheError) as e:
            Client(pc.url).status()
        assert e.value.status == 401

        st = http.get("/cache/status").json()
        assert st["total_projects"] == 1 and st["outdated_artifacts"] == 1
        assert http.get("/cache/projects").json()["items"][0]["id"] == app_id
        detail = http.get(f"/cache/projects/{app_id}").json()
        assert detail["artifact_count"] == 2 and len(detail["artifacts"]) == 2
        assert http.get("/cache/artifacts", params={"project_id": app_id, "is_outdated": "true"}).json()["total"] == 1
        stale = http.get("/cache/stale-artifacts", params={"sort_by": "version_diff"}).json()
        assert stale["items"][0]["version_difference"] == "minor version upgrade (0 -> 2)"
        assert http.get("/cache/search", params={"query": "rev"}).json()["items"][0]["name"] == "review"
        assert http.get("/cache/marketplace").json()["total"] == 0
        r = http.post("/cache/refresh", json={"project_id": app_id, "force": True}).json()
        assert r["success"] and r["projects_refreshed"] == 1
        assert http.post("/cache/invalidate", json={"project_id": app_id}).json()["invalidated_count"] == 1
        assert http.post("/projects/cache/refresh", json={}).json()["success"]
        assert http.get("/projects/cache/stats").json()["entries"] == 1

        # Registering a project outside the search roots, and forgetting it.
        out = outside_project(tmp_path, "tool")
        reg = http.post("/cache/projects", json={"path": str(out)})
        assert reg.status_code == 201 and reg.json()["id"] == pid_of(out)
        assert http.delete(f"/cache/projects/{pid_of(out)}").json()["removed"] is True
        cleared = http.post("/projects/cache/clear").json()
        assert cleared == {"success": True, "message": "Cache cleared and 1 projects rediscovered", "projects_found": 1}

        # ETag and 304 pass through; so do the sidecar's errors with their status and detail.
        first = http.get("/cache/projects")
        assert first.headers["etag"] and first.headers["content-type"].startswith("application/json")
        assert http.get("/cache/projects", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        missing = http.get("/cache/projects/nope")
        assert missing.status_code == 404 and missing.json() == {"detail": "Project 'nope' not found"}
        bad = http.get("/cache/projects", params={"limit": 0})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]
        assert http.post("/cache/refresh", content=b"").status_code == 422
    assert pc.sidecar is None and not pc.available  # stopped with the app


def test_websocket_relays_both_ways_and_closes_both_sides(world):
    pc = Projcache(home=world["home"], websocket_auth=ws_token, **sidecar_options(world))
    app_id = pid_of(world["app"])

    async def run(base):
        ws_url = base.replace("http://", "ws://") + "/api/v1/cache/events"
        # Without the app's token, or from a foreign page, the upgrade is refused.
        for url, headers in ((ws_url, {}), (ws_url + f"?token={TOKEN}", {"Origin": "https://evil.example"})):
            with pytest.raises(websockets.InvalidHandshake):
                async with websockets.connect(url, **connect_options(None), **_origin(headers)):
                    pass
        async with websockets.connect(ws_url + f"?token={TOKEN}", **connect_options(None)) as ws:
            await ws.send(json.dumps({"op": "subscribe", "project_ids": [app_id]}))
            assert json.loads(await ws.recv())["op"] == "subscribed"
            await ws.send(json.dumps({"op": "ping"}))
            assert json.loads(await ws.recv()) == {"op": "pong"}
            await asyncio.to_thread(httpx.post, base + "/api/v1/cache/refresh", json={"project_id": app_id, "force": True},
                                    headers=AUTH, timeout=60)
            types = []
            while "refresh_completed" not in types:
                types.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"])
            assert types[0] == "refresh_started"
            assert pc.client().status()["subscribers"] == 1
        # The client left: the relay closed its upstream session too.
        assert await asyncio.to_thread(wait_for, lambda: pc.client().status()["subscribers"] == 0)

    with served(make_app(pc)) as base:
        asyncio.run(asyncio.wait_for(run(base), 60))


def _origin(headers):
    """websockets 10 calls extra headers `extra_headers`; the origin has its own argument everywhere."""
    return {"origin": headers["Origin"]} if "Origin" in headers else {}


def test_a_dead_sidecar_is_restarted_and_routes_answer_503_meanwhile(world):
    pc = Projcache(home=world["home"], **sidecar_options(world))
    with served(make_app(pc)) as base:
        status = lambda: httpx.get(base + "/api/v1/cache/status", headers=AUTH, timeout=30)  # noqa: E731
        assert status().status_code == 200
        first_pid = pc.sidecar.pid
        os.kill(first_pid, signal.SIGKILL)
        # The restart waits out a backoff of at least 0.5 s, so the 503 window is always there.
        assert wait_for(lambda: status().status_code == 503)
        detail = status().json()["detail"]
        assert "restarting" in detail or "did not answer" in detail
        assert wait_for(lambda: status().status_code == 200, 30)
        assert pc.restarts == 1 and pc.sidecar.pid != first_pid
        assert status().json()["total_projects"] == 1


def test_not_required_the_app_starts_without_a_binary(world):
    pc = Projcache(home=world["home"], required=False, binary="/nonexistent/projcache")
    with served(make_app(pc)) as base:
        assert not pc.available
        r = httpx.get(base + "/api/v1/cache/status", headers=AUTH)
        assert r.status_code == 503 and "/nonexistent/projcache" in r.json()["detail"]
        with pytest.raises(ProjcacheUnavailable):
            CacheManager(projcache=pc).get_projects()

        async def ws_refused():
            async with websockets.connect(base.replace("http://", "ws://") + "/api/v1/cache/events",
                                          **connect_options(None)) as ws:
                await ws.recv()

        with pytest.raises((websockets.ConnectionClosed, websockets.InvalidHandshake)):
            asyncio.run(asyncio.wait_for(ws_refused(), 20))


def test_required_and_missing_stops_the_app_start(world):
    pc = Projcache(home=world["home"], binary="/nonexistent/projcache")
    with pytest.raises(AssertionError, match="failed to start"):
        with served(make_app(pc)):
            pass


def test_the_lifespan_wraps_the_apps_own(world):
    seen = []

    @contextlib.asynccontextmanager
    async def own(app):
        seen.append(("own-start", pc.available))  # ours started first: the app may use it
        yield
        seen.append(("own-stop", pc.available))

    pc = Projcache(home=world["home"], **sidecar_options(world))
    app = FastAPI()
    app.router.lifespan_context = pc.wrap(own)  # what FastAPI(lifespan=pc.wrap(own)) does from 0.93 on
    app.include_router(pc.router, prefix="/api/v1")
    with served(app) as base:
        assert httpx.get(base + "/api/v1/cache/status").json()["total_projects"] == 1
    assert seen == [("own-start", True), ("own-stop", True)]
    assert not pc.available

    # install() keeps the app's startup and shutdown handlers running.
    pc2 = Projcache(home=world["home"], **sidecar_options(world))
    app2 = FastAPI()
    app2.add_event_handler("startup", lambda: seen.append(("startup", pc2.available)))
    app2.add_event_handler("shutdown", lambda: seen.append(("shutdown", pc2.available)))
    pc2.install(app2)
    with served(app2):
        pass
    assert seen[2:] == [("startup", True), ("shutdown", True)]
