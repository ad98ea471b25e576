import asyncio
import base64
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BINARY, wait_for
from projcache import Client, EventStream, ProjcacheError, Sidecar, SidecarError


def pid_of(path):
    return base64.b64encode(str(path).encode()).decode()


def test_start_stop_and_every_route(world):
    sc = Sidecar(BINARY, env=world["env"]).start()
    try:
        c = Client(sc.url)
        assert c.ready()  # start() returned after /readyz said the first scan is done: no wait here
        assert c.healthy()
        app = pid_of(world["app"])
        st = c.status()
        assert st["total_projects"] == 1 and st["total_artifacts"] == 2 and st["outdated_artifacts"] == 1
        assert c.projects()["items"][0]["id"] == app
        assert c.project(app)["artifact_count"] == 2
        assert c.artifacts(project_id=app, is_outdated=True)["total"] == 1
        stale = c.stale_artifacts()["items"]
        assert stale[0]["name"] == "review" and stale[0]["version_difference"] == "minor version upgrade (0 -> 2)"
        assert c.search("REV")["items"][0]["score"] == 80.0
        r = c.refresh(app, force=True)
        assert r["success"] and r["projects_refreshed"] == 1 and r["changes_detected"] is False
        assert c.invalidate(app)["invalidated_count"] == 1
        assert c.projects(status="stale")["total"] == 1
        assert c.marketplace()["total"] == 0
        assert c.projects_cache_refresh()["stats"]["entries"] == 1
        assert c.projects_cache_stats()["entries"] == 1
    finally:
        assert sc.stop() == 0


def test_typed_errors(world):
    with Sidecar(BINARY, env=world["env"]) as sc:
        c = Client(sc.url)
        with pytest.raises(ProjcacheError) as e:
            c.refresh("nope")
        assert e.value.status == 404 and e.value.detail == "Project 'nope' not found"
        with pytest.raises(ProjcacheError) as e:
            c.projects(limit=0)
        assert e.value.status == 422 and e.value.detail[0]["loc"] == ["query", "limit"]
        with pytest.raises(ProjcacheError) as e:
            c.stale_artifacts(sort_by="size")
        assert e.value.status == 400


def test_bad_start_is_reported_with_the_servers_words(tmp_path):
    with pytest.raises(SidecarError, match="exited with 2") as e:
        Sidecar(BINARY, env={"SKILLMEAT_HOME": str(tmp_path), "SKILLMEAT_CACHE_TTL_MINUTES": "soon"}).start()
    assert "SKILLMEAT_CACHE_TTL_MINUTES" in str(e.value)  # its last stderr lines


def test_without_wait_ready_it_returns_at_the_ready_line(world):
    with Sidecar(BINARY, env=world["env"], wait_ready=False) as sc:
        assert sc.ready["event"] == "ready" and sc.port > 0
        assert wait_for(sc.client().ready)


def test_a_binary_that_is_not_there_is_named(tmp_path, monkeypatch):
    from projcache import BinaryNotFound
    with pytest.raises(BinaryNotFound, match="/nonexistent/projcache"):
        Sidecar("/nonexistent/projcache").start()
    monkeypatch.setenv("PROJCACHE_BINARY", str(tmp_path / "missing"))
    with pytest.raises(BinaryNotFound, match="PROJCACHE_BINARY"):
        Sidecar().start()


def test_api_key(world):
    env = dict(world["env"], SKILLMEAT_API_KEY_ENABLED="true", SKILLMEAT_API_KEY="k")
    with Sidecar(BINARY, env=env) as sc:
        with pytest.raises(ProjcacheError) as e:
            Client(sc.url).status()
        assert e.value.status == 401
        keyed = Client(sc.url, api_key="k")
        assert wait_for(keyed.ready)
        assert keyed.status()["total_projects"] == 1


def test_event_stream_reconnects_and_resumes(world):
    async def run(sc):
        c = Client(sc.url)
        app = pid_of(world["app"])
        stream = EventStream(sc.url, project_ids=[app])
        seen = []

        async def consume():
            async for ev in stream:
                seen.append(ev)

        task = asyncio.create_task(consume())
        while stream.connects == 0 or stream.last_seq is None:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(c.refresh, app, True)
        while not any(e["type"] == "refresh_completed" for e in seen):
            await asyncio.sleep(0.01)
        # Drop the connection; events published meanwhile come back through `since`.
        await stream._ws.close()
        await asyncio.to_thread(c.refresh, app, True)
        while stream.connects < 2 or sum(e["type"] == "refresh_completed" for e in seen) < 2:
            await asyncio.sleep(0.01)
        seqs = [e["seq"] for e in seen]
        assert seqs == sorted(set(seqs))
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # nothing missed, nothing twice
        await stream.close()
        task.cancel()
        return stream

    with Sidecar(BINARY, env=world["env"]) as sc:
        asyncio.run(asyncio.wait_for(run(sc), 30))


def test_server_restart_surfaces_resync(world):
    async def run():
        sc = Sidecar(BINARY, env=world["env"]).start()
        port = sc.port
        stream = EventStream(sc.url, reconnect_delay=0.1)
        got = []

        async def consume():
            async for ev in stream:
                got.append(ev)

        task = asyncio.create_task(consume())
        while stream.epoch is None:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(Client(sc.url).refresh, None, True)
        while not got:
            await asyncio.sleep(0.01)
        first_epoch = stream.epoch
        assert sc.stop() == 0
        restarted = Sidecar(BINARY, env=world["env"], port=port).start()
        try:
            while not any(e["type"] == "resync_required" for e in got):
                await asyncio.sleep(0.01)
        finally:
            await stream.close()
            task.cancel()
            assert restarted.stop() == 0
        resync = next(e for e in got if e["type"] == "resync_required")
        # The stream resumed with the old run's epoch: the new server says so, and the client
        # now follows the new run.
        assert resync["details"]["reason"] == "epoch is not this server run"
        assert stream.epoch is not None and stream.epoch != first_epoch

    asyncio.run(asyncio.wait_for(run(), 30))


def test_sidecar_dies_with_its_parent(world, tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))!r})
        from projcache import Sidecar
        sc = Sidecar({BINARY!r}, env={world['env']!r}).start()
        print(sc.ready["pid"], flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    server_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()

    def gone():
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return True
        try:
            return ") Z " in open(f"/proc/{server_pid}/stat").read()
        except FileNotFoundError:
            return True

    # The exit itself is what is tested; how soon it comes is measured in bench/ (parent_death).
    assert wait_for(gone, 15.0)
