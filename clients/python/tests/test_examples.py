"""Every example, and the README's, runs as written against the real server."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import BINARY, pid_of, wait_for

PACKAGE = Path(__file__).resolve().parent.parent
EXAMPLES = PACKAGE / "examples"


def env_for(world, **extra):
    env = dict(os.environ, PROJCACHE_BINARY=BINARY, PYTHONPATH=str(PACKAGE), **world["env"], **extra)
    return env


def run(args, env, timeout=60):
    r = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args} exited {r.returncode}: {r.stderr}"
    return r.stdout


def test_the_readme_example_runs_as_written(world):
    code = re.search(r"```python\n(.*?)```", (PACKAGE / "README.md").read_text(), re.S).group(1)
    out = run(["-c", code], env_for(world))
    assert out.splitlines() == ["1 projects, 1 outdated artifacts", "app review 1.0.0 -> 1.2.0"]


def test_sidecar_status_example(world):
    out = run([str(EXAMPLES / "sidecar_status.py"), str(world["home"]), str(world["dev"])], env_for(world))
    lines = out.splitlines()
    assert lines[0].startswith("1 projects, 2 artifacts, 1 outdated (served at http://127.0.0.1:")
    assert lines[1:] == ["  project app: 2 artifacts, active",
                         "  outdated app/review: 1.0.0 -> 1.2.0 (minor version upgrade (0 -> 2))"]


def test_watch_events_example_sees_an_edit(world):
    p = subprocess.Popen([sys.executable, str(EXAMPLES / "watch_events.py"), "--count", "1", str(world["home"]),
                          str(world["dev"])], env=env_for(world), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("watching http://127.0.0.1:")
        # Subscribed once the first event can reach it; edit until the change is seen.
        target = world["app"] / ".claude" / "commands" / "plan.md"
        deadline = time.monotonic() + 30
        n = 0
        while p.poll() is None and time.monotonic() < deadline:
            n += 1
            target.write_text(f"edited {n}\n")
            try:
                p.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert re.fullmatch(rf"\d+ changes_detected project={re.escape(pid_of(world['app']))} artifacts=1\n", out)
    finally:
        if p.poll() is None:
            p.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_skillmeat_app_example(world):
    port = free_port()
    env = env_for(world, PORT=str(port), SKILLMEAT_TOKEN="t0ken")
    p = subprocess.Popen([sys.executable, str(EXAMPLES / "skillmeat_app.py")], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    auth = {"Authorization": "Bearer t0ken"}

    def up():
        try:
            return httpx.get(base + "/cache/status", headers=auth).status_code == 200
        except httpx.TransportError:
            return p.poll() is not None  # stop waiting if it died

    try:
        assert wait_for(up, 60) and p.poll() is None, p.stderr.read() if p.poll() is not None else ""
        assert httpx.get(base + "/cache/status").status_code == 401
        assert httpx.get(base + "/cache/status", headers=auth).json()["total_projects"] == 1
        assert httpx.get(base + "/outdated", headers=auth).json() == [
            {"project": pid_of(world["app"]), "name": "review", "deployed": "1.0.0", "upstream": "1.2.0"}]
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "Application shutdown complete" in err
