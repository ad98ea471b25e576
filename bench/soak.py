#!/usr/bin/env python3
"""The soak behind bench/soak (see bench/README.md): the 200 x 50 world under file churn, REST
load, 100 subscribers (some slow, all resuming with `since`) and a kill -9 plus restart every
couple of minutes. At the end: integrity_check, the API's rows against a fresh server's on a new
database over the same disk, every subscriber's events (each once, in order, or a resync), and
RSS and descriptors within bounds. Writes bench/results/soak.{json,md} and its section of
latest.md. Debian's python3 + websockets.

usage: soak.py [MINUTES]   (default 10)
"""
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
RESULTS = ROOT / "bench" / "results"
WORK = Path(os.environ.get("PROJCACHE_BENCH_DIR", "/tmp")) / "projcache-soak"
MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
KILL_EVERY_S = 120
SUBSCRIBERS, SLOW_EVERY = 100, 5  # every 5th subscriber reads slowly
RSS_LIMIT_MB, FD_LIMIT = 400, 400
MAX_NEW_PROJECTS = 40  # churn adds and removes projects, about as many as the world has extra at most
READY_TIMEOUT_S = 300  # a restart's first refresh, on a loaded machine


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_of(path):
    return base64.b64encode(str(path).encode()).decode()


class Server:
    """projcache serve on a fixed port (subscribers reconnect to it across restarts)."""

    def __init__(self, world, db, port):
        self.env = dict(os.environ, SKILLMEAT_HOME=str(world / "home"), SKILLMEAT_CACHE_SEARCH_ROOTS=str(world / "dev"),
                        SKILLMEAT_CACHE_PATH=str(db), SKILLMEAT_CACHE_PORT=str(port), SKILLMEAT_CACHE_LOG_LEVEL="warning",
                        SKILLMEAT_CACHE_DEBOUNCE_MS="100", SKILLMEAT_CACHE_WS_QUEUE_MESSAGES="2000")
        self.port, self.p, self.log = port, None, open(WORK / "server.log", "a")

    def start(self):
        self.p = subprocess.Popen([str(BUILD / "projcache"), "serve", "--exit-with-parent", "true"], env=self.env,
                                  stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True)
        json.loads(self.p.stdout.readline())
        wait(lambda: get(self.port, "/readyz", raw=True)[0] == 200, READY_TIMEOUT_S)

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        return self.p.wait(30)

    def rss_mb(self):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def fds(self):
        return len(os.listdir(f"/proc/{self.p.pid}/fd"))


def get(port, path, raw=False, timeout=10):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            body = r.read()
            return (r.status, body) if raw else json.loads(body)
    except urllib.error.HTTPError as e:
        return (e.code, b"") if raw else None
    except OSError:
        return (0, b"") if raw else None


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def wait(cond, seconds):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting")
        time.sleep(0.05)


# ---------------------------------------------------------------- file churn
def churn(dev, stop, stats):
    rng = random.Random(7)
    new_projects = 0
    while not stop.is_set():
        projects = sorted(p for p in dev.iterdir() if (p / ".claude").is_dir())
        proj = rng.choice(projects)
        files = [f for f in (proj / ".claude").rglob("*") if f.is_file() and f.name != ".skillmeat-deployed.toml"]
        op = rng.random()
        try:
            if op < 0.5 and files:  # edit
                with open(rng.choice(files), "a") as f:
                    f.write(f"edit {time.time()}\n")
                stats["edits"] += 1
            elif op < 0.65:  # add a file inside a skill folder
                skills = [d for d in (proj / ".claude" / "skills").glob("*") if d.is_dir()] if (proj / ".claude/skills").is_dir() else []
                if skills:
                    (rng.choice(skills) / f"extra-{rng.randrange(10**6)}.md").write_text("added\n")
                    stats["adds"] += 1
            elif op < 0.78 and files:  # remove
                rng.choice(files).unlink()
                stats["removes"] += 1
            elif op < 0.92 and files:  # rename within its folder
                f = rng.choice(files)
                f.rename(f.with_name(f.stem + "-r" + f.suffix))
                stats["renames"] += 1
            elif op < 0.97 and len(list(dev.glob("new-*"))) < MAX_NEW_PROJECTS:  # a new project, copied
                new_projects += 1
                shutil.copytree(proj, dev / f"new-{new_projects:04d}", symlinks=True)
                stats["new_projects"] += 1
            elif op >= 0.97 and new_projects:  # remove one of the new projects
                victims = sorted(dev.glob("new-*"))
                if victims:
                    shutil.rmtree(rng.choice(victims))
                    stats["removed_projects"] += 1
        except (FileNotFoundError, FileExistsError, OSError):
            pass  # raced with another operation on the same file: fine for churn
        time.sleep(rng.uniform(0.02, 0.2))


# ---------------------------------------------------------------- REST load
def rest_load(port, stop, stats):
    routes = ["/api/v1/cache/status", "/api/v1/cache/projects?limit=100", "/api/v1/cache/search?query=kil",
              "/api/v1/cache/stale-artifacts?limit=100", "/api/v1/cache/artifacts?limit=100"]
    i = 0
    while not stop.is_set():
        code, _ = get(port, routes[i % len(routes)], raw=True)
        i += 1
        if code == 200:
            stats["rest_ok"] += 1
        elif code == 0:
            stats["rest_down"] += 1  # during a restart
            time.sleep(0.05)
        else:
            stats["rest_bad"] += 1
            stats.setdefault("rest_bad_codes", []).append(code)


# ---------------------------------------------------------------- subscribers
class Subscriber:
    def __init__(self, n):
        self.n, self.slow = n, n % SLOW_EVERY == 0
        self.since, self.epoch = None, None
        self.events = self.connects = self.resyncs = self.drops = 0
        self.violations = []

    async def run(self, port, stop):
        import websockets
        last = None
        while not stop.is_set():
            try:
                async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/cache/events", max_size=None,
                                              open_timeout=5, close_timeout=2) as ws:
                    self.connects += 1
                    msg = {"op": "subscribe"}
                    if self.since is not None:
                        msg.update(since=self.since, epoch=self.epoch)
                    await ws.send(json.dumps(msg))
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 1.0)
                        except asyncio.TimeoutError:
                            continue
                        m = json.loads(raw)
                        if m.get("op") == "subscribed":
                            if m["epoch"] != self.epoch:
                                last = None  # a new run (its resync_required follows when we resumed)
                            self.epoch = m["epoch"]
                            if self.since is None or last is None:
                                self.since = last = m["seq"]
                            continue
                        if "op" in m:
                            continue
                        if m["type"] == "resync_required":
                            self.resyncs += 1  # a client refetches over REST and goes on from here
                            if m.get("seq") is not None:
                                self.since = m["seq"]
                            last = self.since
                            continue
                        if last is not None and m["seq"] != last + 1:
                            self.violations.append((self.epoch, last, m["seq"]))
                        last = self.since = m["seq"]
                        self.events += 1
                        if self.slow:
                            await asyncio.sleep(0.05)  # 20 a second: behind in bursts, dropped now and then
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                self.drops += 1
            await asyncio.sleep(0.2)


def subscribers_thread(port, stop, subs):
    async def main():
        await asyncio.gather(*(s.run(port, stop) for s in subs))
    asyncio.run(main())


# ---------------------------------------------------------------- comparison
PROJECT_FIELDS = ("id", "name", "path", "status", "artifact_count")
ARTIFACT_FIELDS = ("id", "name", "type", "project_id", "drift", "is_outdated", "local_modified", "deployed_version",
                   "upstream_version", "deployed_hash", "local_hash", "collection_hash", "source", "profile_root")


def all_items(port, path):
    """Every item of a paged list route, 500 at a time."""
    items, skip = [], 0
    sep = "&" if "?" in path else "?"
    while True:
        page = get(port, f"{path}{sep}skip={skip}&limit=500")
        items += page["items"]
        skip += 500
        if skip >= page["total"]:
            return items


def rows(port):
    projects = all_items(port, "/api/v1/cache/projects")
    artifacts = [a for p in projects
                 for a in all_items(port, f"/api/v1/cache/artifacts?project_id={urllib.parse.quote(p['id'], safe='')}")]
    pick = lambda xs, keys: sorted((tuple((k, x.get(k)) for k in keys) for x in xs))
    return pick(projects, PROJECT_FIELDS), pick(artifacts, ARTIFACT_FIELDS)


def settle(port):
    """Quiet disk: a forced refresh of everything, so the cache reflects what is there now."""
    post(port, "/api/v1/cache/refresh", {"force": True})


# ---------------------------------------------------------------- main
def main():
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    world = WORK / "world"
    subprocess.run([sys.executable, str(ROOT / "bench/gen_world.py"), str(world), "--projects", "200", "--artifacts", "50"],
                   check=True, capture_output=True)
    port, db = free_port(), WORK / "soak.db"
    srv = Server(world, db, port)
    srv.start()
    stop = threading.Event()
    stats = {k: 0 for k in ("edits", "adds", "removes", "renames", "new_projects", "removed_projects",
                            "rest_ok", "rest_down", "rest_bad", "kills")}
    subs = [Subscriber(i) for i in range(SUBSCRIBERS)]
    threads = [threading.Thread(target=churn, args=(world / "dev", stop, stats)),
               threading.Thread(target=rest_load, args=(port, stop, stats)),
               threading.Thread(target=subscribers_thread, args=(port, stop, subs))]
    for t in threads:
        t.start()
    t0, next_kill = time.monotonic(), time.monotonic() + KILL_EVERY_S
    rss, fds, restart_s = [], [], []
    try:
        while time.monotonic() - t0 < MINUTES * 60:
            time.sleep(5)
            if srv.p.poll() is not None:
                raise RuntimeError(f"projcache exited by itself with {srv.p.returncode}; see {WORK / 'server.log'}")
            rss.append(srv.rss_mb())
            fds.append(srv.fds())
            if time.monotonic() > next_kill:
                srv.kill9()
                stats["kills"] += 1
                r0 = time.monotonic()
                srv.start()
                restart_s.append(time.monotonic() - r0)
                next_kill = time.monotonic() + KILL_EVERY_S
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    # Quiet now: settle, compare with a fresh server on a new database over the same disk.
    time.sleep(1.0)
    settle(port)
    ours = rows(port)
    final_rss, final_fds = srv.rss_mb(), srv.fds()
    exit_code = srv.stop()
    check = subprocess.run([str(BUILD / "projcache"), "check", "--full"], env=srv.env, capture_output=True, text=True)
    fresh = Server(world, WORK / "fresh.db", free_port())
    fresh.start()
    settle(fresh.port)
    theirs = rows(fresh.port)
    fresh.stop()
    diff_projects = sorted(set(ours[0]) ^ set(theirs[0]))
    diff_artifacts = sorted(set(ours[1]) ^ set(theirs[1]))
    readers = [s for s in subs if not s.slow]
    res = {
        "minutes": MINUTES, "subscribers": SUBSCRIBERS, "slow_subscribers": sum(s.slow for s in subs), **stats,
        "restart_to_ready_s_max": max(restart_s, default=0.0),
        "integrity_check": check.stdout.strip(), "integrity_ok": check.returncode == 0 and "ok" in check.stdout,
        "final_sigterm_exit": exit_code,
        "projects": len(ours[0]), "artifacts": len(ours[1]),
        "rows_equal_fresh_server": not diff_projects and not diff_artifacts,
        "differing_project_rows": len(diff_projects), "differing_artifact_rows": len(diff_artifacts),
        "diff_sample": [list(map(list, d)) for d in (diff_projects + diff_artifacts)[:6]],
        "events_seen_total": sum(s.events for s in subs),
        "events_seen_min_reader": min((s.events for s in readers), default=0),
        "order_violations": sum(len(s.violations) for s in subs),
        "violation_sample": [v for s in subs for v in s.violations][:5],
        "resyncs": sum(s.resyncs for s in subs), "reconnects": sum(s.connects for s in subs) - SUBSCRIBERS,
        "rss_mb_max": max(rss + [final_rss]), "rss_mb_final": final_rss, "fds_max": max(fds + [final_fds]),
        "rss_limit_mb": RSS_LIMIT_MB, "fd_limit": FD_LIMIT,
    }
    res["passed"] = (res["integrity_ok"] and res["rows_equal_fresh_server"] and res["order_violations"] == 0 and
                     res["final_sigterm_exit"] == 0 and res["rest_bad"] == 0 and res["rss_mb_max"] < RSS_LIMIT_MB and
                     res["fds_max"] < FD_LIMIT and res["events_seen_min_reader"] > 0)
    write_report(res)
    return 0 if res["passed"] else 1


def write_report(res):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(res, indent=2) + "\n")
    md = [f"## Soak ({res['minutes']:.0f} min, {time.strftime('%Y-%m-%d')}): {'passed' if res['passed'] else 'FAILED'}", "",
          f"200 x 50 world under churn ({res['edits']} edits, {res['adds']} adds, {res['removes']} removes, "
          f"{res['renames']} renames, {res['new_projects']} new and {res['removed_projects']} removed projects), "
          f"REST load ({res['rest_ok']} answers, {res['rest_bad']} bad, {res['rest_down']} refused while restarting), "
          f"{res['subscribers']} subscribers ({res['slow_subscribers']} slow), kill -9 and restart {res['kills']} times "
          f"(ready again within {res['restart_to_ready_s_max']:.1f} s).", "",
          "| check | result |", "|---|---|",
          f"| integrity_check after the last kill | {res['integrity_check']} |",
          f"| API rows = a fresh server's on a new database ({res['projects']} projects, {res['artifacts']} artifacts) | "
          f"{res['rows_equal_fresh_server']} ({res['differing_project_rows']} + {res['differing_artifact_rows']} rows differ) |",
          f"| events each once, in order, or a resync ({res['events_seen_total']:,} seen, {res['resyncs']} resyncs, "
          f"{res['reconnects']} reconnects) | {res['order_violations']} violations |",
          f"| RSS max / at the end (limit {res['rss_limit_mb']} MB) | {res['rss_mb_max']:.0f} / {res['rss_mb_final']:.0f} MB |",
          f"| open descriptors max (limit {res['fd_limit']}) | {res['fds_max']} |",
          f"| SIGTERM at the end | exit {res['final_sigterm_exit']} |", ""]
    (RESULTS / "soak.md").write_text("\n".join(md))
    latest = RESULTS / "latest.md"
    if latest.exists():
        text = latest.read_text()
        begin, end = "<!-- soak:begin -->", "<!-- soak:end -->"
        block = begin + "\n" + "\n".join(md) + end
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):] if begin in text else text.rstrip() + "\n\n" + block + "\n"
        latest.write_text(text)
    print("\n".join(md))


if __name__ == "__main__":
    sys.exit(main())
