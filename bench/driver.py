#!/usr/bin/env python3
"""The benchmark driver behind bench/run (see bench/README.md). Debian's python3 + websockets."""
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
HERE = ROOT / "bench"
RESULTS = HERE / "results"
QUICK = "--quick" in sys.argv
WORK = Path(os.environ.get("PROJCACHE_BENCH_DIR", tempfile.gettempdir())) / "projcache-bench"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, capture_output=True, text=True, **kw).stdout


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "quick": QUICK}


def world(name, projects, artifacts):
    out = WORK / name
    marker = out / f".complete-{projects}x{artifacts}"
    if not marker.exists():
        sh([sys.executable, str(ROOT / "bench/gen_world.py"), str(out), "--projects", str(projects), "--artifacts", str(artifacts)])
        marker.touch()
        time.sleep(0.1)  # past the racy-timestamp window of the newest files
    return out


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- scan and refresh (in-process)
def bench_scan(w, rounds):
    """Cold scan vs `find | cat | sha256sum` over the same files, alternating rounds."""
    base, ours, runs = [], [], []
    for _ in range(rounds):
        base.append(floor_s(w))
        r = json.loads(sh([str(BUILD / "bench/bench_refresh"), str(w / "home"), str(w / "dev"), str(WORK / "scan.db"), "10"]))
        ours.append(r["cold_refresh_s"])
        runs.append(r)
    last = runs[-1]
    return {
        "projects": last["projects"], "artifacts": last["artifacts"],
        "cold_scan_s": statistics.median(ours), "cold_scan_spread_s": [min(ours), max(ours)],
        "baseline_cat_sha256sum_s": statistics.median(base), "baseline_spread_s": [min(base), max(base)],
        "ratio_to_baseline": statistics.median(ours) / statistics.median(base),
        "warm_refresh_s": statistics.median(r["warm_refresh_s_median"] for r in runs),
        "warm_over_cold": statistics.median(r["warm_refresh_s_median"] for r in runs) / statistics.median(ours),
        "files_opened_warm": last["files_opened_warm"],
        "single_change_ms_median": statistics.median(r["single_change_ms_median"] for r in runs),
        "single_change_ms_p90": max(r["single_change_ms_p90"] for r in runs),
    }


def floor_run(w):
    """`find | cat | sha256sum` over every file of a world: reading and hashing, nothing else.
    Its wall time and its CPU time (user + system of every process in the pipeline)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    sh(f"find {w}/home {w}/dev -type f -exec cat {{}} + | sha256sum")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def floor_s(w):
    return floor_run(w)[0]


def bench_scaling(sizes, artifacts, rounds):
    """Cold scan, forced refresh (nothing changed) and the ready line with the world cached, at
    growing project counts: each must grow with the work (the floor), not faster. The sizes are
    measured in turn, round after round, and each figure is the median of its rounds: on a shared
    machine one slow run of one size would otherwise decide a growth ratio."""
    keys = ("floor_s", "cold_scan_s", "forced_refresh_s", "ready_line_ms", "floor_cpu_s", "cold_scan_cpu_s",
            "forced_refresh_cpu_s")
    runs = {n: {k: [] for k in keys} for n in sizes}
    worlds = {n: world(f"scale-{n}x{artifacts}", n, artifacts) for n in sizes}
    for _ in range(rounds):
        for n in sizes:
            w, got = worlds[n], runs[n]
            wall, cpu = floor_run(w)
            got["floor_s"].append(wall)
            got["floor_cpu_s"].append(cpu)
            db = WORK / f"scale-{n}.db"
            r = json.loads(sh([str(BUILD / "bench/bench_refresh"), str(w / "home"), str(w / "dev"), str(db), "3", "3"]))
            got["cold_scan_s"].append(r["cold_refresh_s"])
            got["forced_refresh_s"].append(r["warm_refresh_s_median"])
            got["cold_scan_cpu_s"].append(r["cold_refresh_cpu_s"])
            got["forced_refresh_cpu_s"].append(r["warm_refresh_cpu_s_median"])
            srv = Server(w, env_extra={"SKILLMEAT_CACHE_PATH": str(db)})
            got["ready_line_ms"].append(srv.listen_s * 1000)
            srv.stop()
    rows = []
    for n in sizes:
        row = {"projects": n, "artifacts_per_project": artifacts, "rounds": rounds}
        for k in keys:
            row[k] = statistics.median(runs[n][k])
            row[k + "_spread"] = [min(runs[n][k]), max(runs[n][k])]
        rows.append(row)
    base, top = rows[1] if len(rows) > 2 else rows[0], rows[-1]
    growth = {k: top[k] / base[k] for k in keys}
    return {"rows": rows, "from": base["projects"], "to": top["projects"], "growth": growth}


# ---------------------------------------------------------------- the server
class Server:
    def __init__(self, w, threads=1, debounce=100, args=(), env_extra=None):
        self.home = w / "home"
        env = dict(os.environ, SKILLMEAT_HOME=str(self.home), SKILLMEAT_CACHE_SEARCH_ROOTS=str(w / "dev"),
                   SKILLMEAT_CACHE_THREADS=str(threads), SKILLMEAT_CACHE_DEBOUNCE_MS=str(debounce),
                   SKILLMEAT_CACHE_LOG_LEVEL="warning", SKILLMEAT_CACHE_MAX_CONNECTIONS="4096", **(env_extra or {}))
        t0 = time.perf_counter()
        self.p = subprocess.Popen([str(BUILD / "projcache"), "serve", "--port", "0", "--exit-with-parent", "true", *args],
                                  env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        self.ready_line = json.loads(self.p.stdout.readline())
        self.listen_s = time.perf_counter() - t0
        self.port = self.ready_line["port"]
        while self.get("/readyz", raw=True)[0] != 200:
            time.sleep(0.02)
        self.ready_s = time.perf_counter() - t0

    def get(self, path, raw=False):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}") as r:
                body = r.read()
                return (r.status, body) if raw else json.loads(body)
        except urllib.error.HTTPError as e:
            return (e.code, b"") if raw else None

    def wait_quiet(self):
        """Until no full pass runs (the start's verification of the cached projects included):
        memory read before that holds the pass's events queued for every subscriber."""
        while self.get("/api/v1/cache/status")["refresh_progress"]["running"]:
            time.sleep(0.02)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(10)


def sqlite3_dump_s(db):
    """`sqlite3` printing every row of the tables a start loads: the floor for the ready line.
    The rows go to /dev/null: read back through a pipe into Python they took twice as long,
    which flattered the ratio."""
    t0 = time.perf_counter()
    subprocess.run(["sqlite3", str(db), "SELECT * FROM artifacts; SELECT * FROM artifact_metadata; SELECT * FROM file_fingerprints;"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def bench_startup(w, db, rounds):
    """A first start on a new database (the cold scan) against starts with the world cached:
    the ready line next to `sqlite3` dumping the same tables (alternating rounds), and the RSS
    once each has settled, with the replay ring's share (the cold scan's events fill it)."""
    for f in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm"), Path(str(db) + ".snapshot")):
        f.unlink(missing_ok=True)
    cold = Server(w)
    cold.wait_quiet()  # verified, published, trimmed
    cold_rss, cold_ring = rss_mb(cold.p.pid), ring_bytes(cold.port)
    cold.stop()
    ready, dump, warm_rss, warm_ring = [], [], [], []
    for _ in range(rounds):
        dump.append(sqlite3_dump_s(db))
        srv = Server(w)
        ready.append(srv.listen_s)
        srv.wait_quiet()
        warm_rss.append(rss_mb(srv.p.pid))
        warm_ring.append(ring_bytes(srv.port))
        srv.stop()
    med = statistics.median
    return {"cold_ready_s": cold.ready_s, "rss_after_cold_scan_mb": cold_rss, "ring_after_cold_scan_mb": cold_ring / 1e6,
            "rss_warm_start_mb": med(warm_rss), "ring_warm_start_mb": med(warm_ring) / 1e6,
            "ready_line_ms": med(ready) * 1000, "ready_line_spread_ms": [min(ready) * 1000, max(ready) * 1000],
            "sqlite3_dump_ms": med(dump) * 1000, "ready_over_sqlite3": med(ready) / med(dump)}


def ring_bytes(port):
    """Bytes of every event the server keeps for replay (a subscribe from 0 sends them all)."""
    async def count():
        import websockets
        total = 0
        async with websockets.connect(f"ws://127.0.0.1:{port}/api/v1/cache/events", max_size=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "since": 0}))
            try:
                while True:
                    m = await asyncio.wait_for(ws.recv(), 0.5)
                    if json.loads(m).get("op") != "subscribed":
                        total += len(m)
            except asyncio.TimeoutError:
                return total
    return asyncio.run(count())


# ---------------------------------------------------------------- polite background work
BURN = ("import sys, time\nend = time.perf_counter() + float(sys.argv[1])\nn = 0\n"
        "while time.perf_counter() < end:\n    n += 1\nprint(n)\n")


def burn(seconds):
    """One CPU-bound process per core for `seconds`; the loop iterations they managed in all."""
    ps = [subprocess.Popen([sys.executable, "-c", BURN, str(seconds)], stdout=subprocess.PIPE, text=True)
          for _ in range(os.cpu_count())]
    return sum(int(p.communicate()[0]) for p in ps)


def bench_polite(w, seconds, rounds):
    """A cold full refresh (fresh database: every file read and hashed) while every core runs a
    CPU-bound process at normal priority: how much slower the CPU-bound work went. Windows with
    and without the refresh alternate, several rounds; medians are compared."""
    env = dict(os.environ, SKILLMEAT_HOME=str(w / "home"), SKILLMEAT_CACHE_SEARCH_ROOTS=str(w / "dev"),
               SKILLMEAT_CACHE_PATH=str(WORK / "polite.db"), SKILLMEAT_CACHE_LOG_LEVEL="error")
    alone, loaded, shares = [], [], []
    for _ in range(rounds):
        alone.append(burn(seconds))
        for f in WORK.glob("polite.db*"):
            f.unlink()
        ref = subprocess.Popen([str(BUILD / "projcache"), "refresh", "--force"], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # past opening the database: the scans are running
        cpu0, t0 = cpu_seconds(ref.pid), time.perf_counter()
        loaded.append(burn(seconds))
        if ref.poll() is None:
            shares.append((cpu_seconds(ref.pid) - cpu0) / (time.perf_counter() - t0))
            ref.kill()
        ref.wait()
    alone.append(burn(seconds))
    for f in WORK.glob("polite.db*"):
        f.unlink()
    t1 = time.perf_counter()
    subprocess.run([str(BUILD / "projcache"), "refresh", "--force"], env=env, capture_output=True, check=False)
    free_s = time.perf_counter() - t1
    base = statistics.median(alone)
    return {"seconds": seconds, "rounds": rounds, "burn_alone": alone, "burn_with_refresh": loaded,
            "slowdown": max(0.0, 1 - statistics.median(loaded) / base),
            "slowdown_spread": [max(0.0, 1 - max(loaded) / base), max(0.0, 1 - min(loaded) / base)],
            "refresh_cpu_share_of_one_core": statistics.median(shares) if shares else 0.0,
            "cold_refresh_free_cores_s": free_s}


# ---------------------------------------------------------------- REST load (wrk)
def children_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wrk(port, path, seconds, conns=64):
    c0, t0 = children_cpu(), time.perf_counter()
    out = sh(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}{path}"])
    wrk_cpu = (children_cpu() - c0) / (time.perf_counter() - t0)  # wrk's share of one core
    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": ms("50"), "p90_ms": ms("90"), "p99_ms": ms("99"), "non_2xx": int(errors.group(1)) if errors else 0,
            "wrk_cpu": wrk_cpu}


def bench_rest(srv, seconds, rounds):
    routes = ["/api/v1/cache/status", "/api/v1/cache/projects?limit=100", "/api/v1/cache/search?query=kil",
              "/api/v1/cache/search?query=a", "/api/v1/cache/stale-artifacts?limit=100", "/api/v1/cache/artifacts?limit=100"]
    out = []
    for route in routes:
        body = srv.get(route, raw=True)[1]
        body_file = WORK / "body.json"
        body_file.write_bytes(body)
        base = subprocess.Popen([str(BUILD / "bench/baseline_http"), "0", str(body_file)], stdout=subprocess.PIPE, text=True)
        base_port = int(base.stdout.readline().split()[1])
        ours_runs, base_runs = [], []
        for _ in range(rounds):  # alternating, so drift in the machine hits both alike
            c0, b0 = cpu_seconds(srv.p.pid), cpu_seconds(base.pid)
            t0 = time.perf_counter()
            ours_runs.append(wrk(srv.port, route, seconds))
            ours_runs[-1]["server_cpu"] = (cpu_seconds(srv.p.pid) - c0) / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            base_runs.append(wrk(base_port, route, seconds))
            base_runs[-1]["server_cpu"] = (cpu_seconds(base.pid) - b0) / (time.perf_counter() - t0)
        base.terminate()
        base.wait()
        med = lambda runs, k: statistics.median(r[k] for r in runs)
        out.append({"route": route, "body_bytes": len(body),
                    "rps": med(ours_runs, "rps"), "rps_spread": [min(r["rps"] for r in ours_runs), max(r["rps"] for r in ours_runs)],
                    "p50_ms": med(ours_runs, "p50_ms"), "p99_ms": med(ours_runs, "p99_ms"),
                    "baseline_rps": med(base_runs, "rps"), "baseline_p50_ms": med(base_runs, "p50_ms"),
                    "baseline_p99_ms": med(base_runs, "p99_ms"), "ratio": med(ours_runs, "rps") / med(base_runs, "rps"),
                    "server_cpu_share": med(ours_runs, "server_cpu"), "wrk_cpu_share": med(ours_runs, "wrk_cpu"),
                    "non_2xx": sum(r["non_2xx"] for r in ours_runs)})
    return out


# ---------------------------------------------------------------- write -> event latency
async def latency(srv, w, trials, jitter_s=0.0):
    """Writes a file, waits for its changes_detected; `jitter_s`: a random pause up to that long
    between trials, so writes do not lock onto a poll backend's tick."""
    import random
    import websockets
    project = sorted((w / "dev").iterdir())[len(list((w / "dev").iterdir())) // 2]
    pid = __import__("base64").b64encode(str(project).encode()).decode()
    target = project / ".claude" / "commands" / "command-001.md"
    out = []
    async with websockets.connect(f"ws://127.0.0.1:{srv.port}/api/v1/cache/events", max_size=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "types": ["changes_detected"], "project_ids": [pid]}))
        await ws.recv()
        for i in range(trials):
            t0 = time.perf_counter()
            with open(target, "a") as f:
                f.write(f"trial {i}\n")
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if m.get("type") == "changes_detected":
                    break
            out.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.05 + random.random() * jitter_s)
    out.sort()
    return {"trials": trials, "p50_ms": out[len(out) // 2], "p99_ms": out[min(len(out) - 1, int(len(out) * 0.99))],
            "max_ms": out[-1], "debounce_ms": 100}


# ---------------------------------------------------------------- watcher backends
def bench_watchers(w, trials, idle_s):
    """inotify and poll side by side on the same world: file write -> event p50/p99, and what
    watching costs while nothing changes (the whole server's CPU; for poll also per tick)."""
    out = {}
    for backend in ("inotify", "poll"):
        srv = Server(w, env_extra={"SKILLMEAT_CACHE_WATCHER": backend})
        try:
            def figures():
                return srv.get("/api/v1/cache/status")["watcher"]["backends"][0]
            while backend == "poll" and figures()["ticks"] < 3:  # the baseline listing, then two ticks
                time.sleep(0.1)
            time.sleep(1.0)  # let the start's own refreshes finish before the idle window
            f0, c0, t0 = figures(), cpu_seconds(srv.p.pid), time.perf_counter()
            time.sleep(idle_s)
            f1, c1, wall = figures(), cpu_seconds(srv.p.pid), time.perf_counter() - t0
            r = {"watches": f1["watches"], "idle_window_s": wall, "server_cpu_pct_idle": (c1 - c0) / wall * 100}
            if backend == "poll":
                ticks = f1["ticks"] - f0["ticks"]
                cpu_ms = f1["cpu_ms_total"] - f0["cpu_ms_total"]
                r.update({"interval_ms": f1["interval_ms"], "entries": f1["entries"], "ticks": ticks,
                          "cpu_ms_per_tick": cpu_ms / max(1, ticks), "last_tick_ms": f1["last_tick_ms"],
                          "tick_cpu_pct_of_core": cpu_ms / (wall * 1000) * 100})
            r.update(asyncio.run(latency(srv, w, trials, 1.0)))
            r["goal_ms"] = r["debounce_ms"] + (f1.get("interval_ms", 0) if backend == "poll" else 0) + 50
            out[backend] = r
        finally:
            srv.stop()
    return out


# ---------------------------------------------------------------- WebSocket fan-out
def fanout_round(port, clients, n, size, projcache, server_pid):
    c = subprocess.Popen([str(BUILD / "bench/fanout"), str(port), str(clients), str(n), str(size)] +
                         (["--projcache"] if projcache else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert c.stdout.readline().strip() == "ready"
    rss = rss_mb(server_pid)
    c0 = cpu_seconds(c.pid)
    c.stdin.write("go\n")
    c.stdin.flush()
    r = json.loads(c.stdout.readline())
    r["client_cpu_s"] = cpu_seconds(c.pid) - c0 if c.poll() is None else None
    c.wait()
    r["server_rss_with_subscribers_mb"] = rss
    return r


def bench_fanout(w, clients, n, size, rounds):
    srv = Server(w, args=["--bench-routes"], env_extra={"SKILLMEAT_CACHE_WS_QUEUE_MESSAGES": str(n + 1000),
                                                        "SKILLMEAT_CACHE_WS_QUEUE_BYTES": str(256 << 20)})
    base = subprocess.Popen([str(BUILD / "bench/baseline_ws"), "0"], stdout=subprocess.PIPE, text=True)
    base_port = int(base.stdout.readline().split()[1])
    srv.wait_quiet()  # idle subscribers: no verification pass queueing its events for them
    ours, theirs = [], []
    try:
        for _ in range(rounds):
            ours.append(fanout_round(srv.port, clients, n, size, True, srv.p.pid))
            theirs.append(fanout_round(base_port, clients, n, size, False, base.pid))
    finally:
        srv.stop()
        base.terminate()
        base.wait()
    med = lambda rs: statistics.median(r["per_second"] for r in rs)
    return {"clients": clients, "events": n, "message_bytes": size, "deliveries_per_s": med(ours),
            "spread": [min(r["per_second"] for r in ours), max(r["per_second"] for r in ours)],
            "baseline_deliveries_per_s": med(theirs), "ratio": med(ours) / med(theirs),
            "rss_with_idle_subscribers_mb": min(r["server_rss_with_subscribers_mb"] for r in ours),
            "all_delivered": all(r["deliveries"] == clients * n for r in ours + theirs)}


# ---------------------------------------------------------------- lifecycle timings (from the tests' goals)
PARENT = ("import subprocess, sys, time\n"
          "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)\n"
          "print(p.stdout.readline(), flush=True)\ntime.sleep(600)\n")


def bench_lifecycle(w, rounds):
    """SIGTERM to exit; the parent killed to the sidecar's exit; /cache/status while a forced
    full refresh runs. The tests check that these happen; here is how fast."""
    stops, orphans, during = [], [], []
    for _ in range(rounds):
        srv = Server(w)
        t0 = time.perf_counter()
        srv.stop()
        stops.append(time.perf_counter() - t0)
        env = dict(os.environ, SKILLMEAT_HOME=str(w / "home"), SKILLMEAT_CACHE_SEARCH_ROOTS=str(w / "dev"),
                   SKILLMEAT_CACHE_LOG_LEVEL="error")
        parent = subprocess.Popen([sys.executable, "-c", PARENT, str(BUILD / "projcache"), "serve", "--port", "0"],
                                  env=env, stdout=subprocess.PIPE, text=True)
        child = json.loads(parent.stdout.readline())["pid"]
        t0 = time.perf_counter()
        parent.kill()
        parent.wait()
        while os.path.exists(f"/proc/{child}") and ") Z " not in open(f"/proc/{child}/stat").read():
            time.sleep(0.001)
        orphans.append(time.perf_counter() - t0)
    srv = Server(w)
    try:
        done = threading.Event()
        def refresh():
            req = urllib.request.Request(f"http://127.0.0.1:{srv.port}/api/v1/cache/refresh", method="POST",
                                         data=b'{"force": true}', headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=600).read()
            done.set()
        t = threading.Thread(target=refresh)
        t.start()
        while not done.is_set():
            t0 = time.perf_counter()
            srv.get("/api/v1/cache/status", raw=True)
            during.append((time.perf_counter() - t0) * 1000)
        t.join()
    finally:
        srv.stop()
    during.sort()
    return {"rounds": rounds, "sigterm_to_exit_ms_max": max(stops) * 1000, "parent_death_to_exit_ms_max": max(orphans) * 1000,
            "status_during_refresh_requests": len(during), "status_during_refresh_p50_ms": during[len(during) // 2],
            "status_during_refresh_max_ms": during[-1]}


# ---------------------------------------------------------------- report
def report(res):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(res, indent=2) + "\n")
    s, m = res["scan"], res["machine"]
    lines = [f"# projcache benchmarks ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}{' (quick mode)' if m['quick'] else ''}.", "",
             "## Scan and refresh", "", "| measure | projcache | baseline | ratio | goal |", "|---|---|---|---|---|",
             f"| cold scan, {s['projects']} projects x {s['artifacts'] // max(1, s['projects'])} artifacts | {s['cold_scan_s']:.2f} s | "
             f"{s['baseline_cat_sha256sum_s']:.2f} s (`find \\| cat \\| sha256sum`) | {s['ratio_to_baseline']:.2f}x | <= 1.5x |",
             f"| warm scan (nothing changed) | {s['warm_refresh_s']:.3f} s | | {s['warm_over_cold'] * 100:.1f}% of cold | < 10% |",
             f"| one changed file: that project's refresh | {s['single_change_ms_median']:.2f} ms (p90 {s['single_change_ms_p90']:.2f}) | | | < 5 ms |"]
    if "big" in res:
        b = res["big"]
        cs, fs = b.get("cold_refresh_spread_s"), b.get("floor_spread_s")
        spread = lambda r: f" ({r[0]:.2f}-{r[1]:.2f})" if r else ""
        lines += [f"| cold scan, {b['projects']} projects x 50 artifacts (median of 3, alternating; spread) | "
                  f"{b['cold_refresh_s']:.2f} s{spread(cs)} | {b['floor_s']:.2f} s{spread(fs)} | "
                  f"{b['cold_refresh_s'] / b['floor_s']:.2f}x | <= 1.2x |",
                  f"| refresh of {b['projects']} unchanged projects | {b['warm_refresh_s']:.3f} s | | | < 1 s |",
                  f"| one changed file, {b['projects']}-project world | {b['single_change_ms_median']:.2f} ms | | | < 5 ms |"]
    if "scaling" in res:
        sc = res["scaling"]
        lines += ["", f"## Scaling ({sc['rows'][0]['artifacts_per_project']} artifacts per project; goal: from 1,000 "
                  "to 4,000 projects the cold scan and the forced refresh grow at most 4.5x, as the work does)", "",
                  f"Each figure is the median of {sc['rows'][0]['rounds']} rounds, the sizes taken in turn; the spread "
                  "is in brackets.", "",
                  "| projects | floor (`cat \\| sha256sum`) | cold scan | forced refresh, nothing changed | ready line, cached |",
                  "|---|---|---|---|---|"]

        def cell(r, k, fmt, unit):
            lo, hi = r[k + "_spread"]
            return f"{r[k]:{fmt}} {unit} ({lo:{fmt}}-{hi:{fmt}})"
        for r in sc["rows"]:
            lines.append(f"| {r['projects']:,} | {cell(r, 'floor_s', '.2f', 's')} | {cell(r, 'cold_scan_s', '.2f', 's')} | "
                         f"{cell(r, 'forced_refresh_s', '.3f', 's')} | {cell(r, 'ready_line_ms', '.0f', 'ms')} |")
        g = sc["growth"]
        lines.append(f"| growth | {g['floor_s']:.1f}x | {g['cold_scan_s']:.1f}x | {g['forced_refresh_s']:.1f}x | "
                     f"{g['ready_line_ms']:.1f}x |")
        if "cold_scan_cpu_s" in g:  # the work itself: CPU time, which a slow disk or a busy host does not blur
            lines += ["", "The same runs in CPU time (user + system, every thread or process):", "",
                      "| projects | floor | cold scan | forced refresh |", "|---|---|---|---|"]
            for r in sc["rows"]:
                lines.append(f"| {r['projects']:,} | {cell(r, 'floor_cpu_s', '.2f', 's')} | "
                             f"{cell(r, 'cold_scan_cpu_s', '.2f', 's')} | {cell(r, 'forced_refresh_cpu_s', '.3f', 's')} |")
            lines.append(f"| growth | {g['floor_cpu_s']:.1f}x | {g['cold_scan_cpu_s']:.1f}x | "
                         f"{g['forced_refresh_cpu_s']:.1f}x |")
    st = res["startup"]
    lines += ["", "## Start-up (the 1000 x 50 world)", "",
              "| measure | projcache | baseline | ratio | goal |", "|---|---|---|---|---|",
              f"| start to ready line, world cached (median; spread) | {st['ready_line_ms']:.0f} ms "
              f"({st['ready_line_spread_ms'][0]:.0f}-{st['ready_line_spread_ms'][1]:.0f}) | "
              f"{st['sqlite3_dump_ms']:.0f} ms (`sqlite3` printing artifacts, metadata, fingerprints) | "
              f"{st['ready_over_sqlite3']:.2f}x | < 100 ms, <= 1x |",
              f"| RSS after the first cold scan (its events for replay: {st['ring_after_cold_scan_mb']:.1f} MB as sent, "
              f"kept deflated) | "
              f"{st['rss_after_cold_scan_mb']:.1f} MB | {st['rss_warm_start_mb']:.1f} MB after a warm start (ring "
              f"{st['ring_warm_start_mb']:.1f} MB) | {st['rss_after_cold_scan_mb'] / st['rss_warm_start_mb']:.2f}x | <= 1.1x |"]
    sv = res["server"]
    lines += ["", "## Server", "", "| measure | value |", "|---|---|",
              f"| start to ready line (world cached) | {sv['listen_s'] * 1000:.0f} ms |",
              f"| start to /readyz 200 (first refresh done) | {sv['ready_s'] * 1000:.0f} ms |",
              f"| RSS at idle | {sv['rss_idle_mb']:.1f} MB |", f"| database size | {sv['db_mb']:.1f} MB |",
              f"| file write -> WebSocket event, p50 / p99 ({res['latency']['trials']} trials, debounce 100 ms) | "
              f"{res['latency']['p50_ms']:.1f} / {res['latency']['p99_ms']:.1f} ms |",
              "", "## REST (wrk -t1 -c64, one server thread each; baseline = bare Beast, same body)", "",
              "| route | body | req/s (spread) | p50 | p99 | baseline req/s | baseline p99 | ratio | goal | server CPU | wrk CPU |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    goals = {"/api/v1/cache/status": "ratio >= 0.5, p99 < 2 ms", "/api/v1/cache/projects?limit=100": "ratio >= 0.5, p99 < 2 ms",
             "/api/v1/cache/search?query=kil": "p99 < 5 ms", "/api/v1/cache/search?query=a": "p99 < 25 ms"}
    for r in res["rest"]:
        lo, hi = r.get("rps_spread", [r["rps"], r["rps"]])
        lines.append(f"| `{r['route']}` | {r['body_bytes']} B | {r['rps']:.0f} ({lo:.0f}-{hi:.0f}) | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
                     f"{r['baseline_rps']:.0f} | {r['baseline_p99_ms']:.2f} ms | {r['ratio']:.2f} | {goals.get(r['route'], '')} | "
                     f"{r['server_cpu_share'] * 100:.0f}% | {r.get('wrk_cpu_share', 0) * 100:.0f}% |")
    if "watchers" in res:
        wa = res["watchers"]
        i, p = wa["inotify"], wa["poll"]
        lines += ["", f"## File watchers on the {res['big']['projects'] if 'big' in res else ''} x 50 world "
                  "(`--watcher inotify` and `--watcher poll`, the portable backend, default 1 s interval)", "",
                  "| backend | folders watched | entries compared per tick | CPU per tick | ticks' CPU, % of one core | "
                  "server CPU at idle | write -> event p50 / p99 | goal (debounce + interval + 50 ms) |",
                  "|---|---|---|---|---|---|---|---|",
                  f"| inotify | {i['watches']:,} | - | - | - | {i['server_cpu_pct_idle']:.2f}% | "
                  f"{i['p50_ms']:.0f} / {i['p99_ms']:.0f} ms ({i['trials']} trials) | < {i['goal_ms']} ms |",
                  f"| poll | {p['watches']:,} | {p['entries']:,} | {p['cpu_ms_per_tick']:.1f} ms (wall {p['last_tick_ms']:.1f} ms) | "
                  f"{p['tick_cpu_pct_of_core']:.1f}% | {p['server_cpu_pct_idle']:.2f}% | "
                  f"{p['p50_ms']:.0f} / {p['p99_ms']:.0f} ms ({p['trials']} trials) | < {p['goal_ms']} ms |"]
    if "fanout" in res:
        f = res["fanout"]
        lines += ["", f"## WebSocket fan-out ({f['clients']} subscribers, {f['events']} events of {f['message_bytes']} B; "
                  "baseline = bare Beast broadcast, chat-multi shape)", "",
                  "| deliveries/s (spread) | baseline deliveries/s | ratio (goal >= 0.8) | every message delivered | "
                  "RSS with the subscribers idle (goal < 64 MB) |",
                  "|---|---|---|---|---|",
                  f"| {f['deliveries_per_s']:,.0f} ({f['spread'][0]:,.0f}-{f['spread'][1]:,.0f}) | {f['baseline_deliveries_per_s']:,.0f} | "
                  f"{f['ratio']:.2f} | {f['all_delivered']} | {f['rss_with_idle_subscribers_mb']:.1f} MB |"]
    if "polite" in res:
        p = res["polite"]
        lines += ["", f"## Polite background work ({res['machine']['cores']} CPU-bound processes at nice 0, one per core, "
                  f"{p['rounds']} rounds of {p['seconds']} s windows, alternating)", "",
                  "| CPU-bound work lost to a cold full refresh | refresh's CPU meanwhile | goal | cold refresh with the cores free |",
                  "|---|---|---|---|",
                  f"| {p['slowdown'] * 100:.1f}% (spread {p['slowdown_spread'][0] * 100:.1f}-{p['slowdown_spread'][1] * 100:.1f}%) | "
                  f"{p['refresh_cpu_share_of_one_core'] * 100:.1f}% of one core | < 5% | "
                  f"{p['cold_refresh_free_cores_s']:.1f} s |"]
    if "lifecycle" in res:
        l = res["lifecycle"]
        lines += ["", f"## Lifecycle ({l['rounds']} rounds; what the tests check happens, how fast)", "",
                  "| measure | value | goal |", "|---|---|---|",
                  f"| SIGTERM to exit, world cached, max | {l['sigterm_to_exit_ms_max']:.0f} ms | < 5 s |",
                  f"| parent killed to the sidecar's exit, max | {l['parent_death_to_exit_ms_max']:.0f} ms | < 2 s |",
                  f"| `/cache/status` while a forced full refresh runs ({l['status_during_refresh_requests']} requests), "
                  f"p50 / max | {l['status_during_refresh_p50_ms']:.2f} / {l['status_during_refresh_max_ms']:.1f} ms | max < 1 s |"]
    if "elapsed_s" in res:
        lines += ["", f"Whole run (build, worlds, every benchmark): {res['elapsed_s'] / 60:.1f} min."]
    soak = RESULTS / "soak.md"
    if soak.exists():  # written by bench/soak; kept here between its markers
        lines += ["", "<!-- soak:begin -->", soak.read_text().rstrip() + "\n<!-- soak:end -->"]
    lines += ["", "![latency and ratio](latest.png)", ""]
    (RESULTS / "latest.md").write_text("\n".join(lines))
    # The README shows the same table, between its markers, with the chart's path from there.
    readme = HERE / "README.md"
    text = readme.read_text()
    begin, end = "<!-- latest:begin -->", "<!-- latest:end -->"
    if begin in text and end in text:
        table = "\n".join(lines[1:]).replace("](latest.png)", "](results/latest.png)").replace("\n## ", "\n### ")
        readme.write_text(text[:text.index(begin) + len(begin)] + "\n" + table + "\n" + text[text.index(end):])
    data, ratios = WORK / "chart.dat", WORK / "ratios.dat"
    rows = [(r['route'].split('/')[-1][:28], r['p50_ms'], r['p99_ms'], r['ratio']) for r in res["rest"]]
    data.write_text("\n".join(f"\"{n}\" {a} {b} {c}" for n, a, b, c in rows) + "\n")
    if "fanout" in res:
        rows.append(("websocket fan-out (goal 0.8)", 0, 0, res["fanout"]["ratio"]))
    ratios.write_text("\n".join(f"\"{n}\" {a} {b} {c}" for n, a, b, c in rows) + "\n")
    gp = f"""set terminal pngcairo size 1000,520 font ',10'
set output '{RESULTS / "latest.png"}'
set multiplot layout 1,2
set style data histograms
set style fill solid 0.8
set xtics rotate by -35
set title 'REST latency (ms)'
set yrange [0:*]
plot '{data}' using 2:xtic(1) title 'p50', '' using 3 title 'p99'
set title 'throughput ratio to bare Beast'
set yrange [0:*]
plot '{ratios}' using 4:xtic(1) title 'ratio' lc rgb '#4a7', 0.5 title 'REST goal 0.5' lw 2 lc rgb '#c33'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=False)
    print((RESULTS / "latest.md").read_text())


def main():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # 1,000 subscribers on each side
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    WORK.mkdir(parents=True, exist_ok=True)
    res = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    scan_world = world("scan-200x50", 200, 50)
    res["scan"] = bench_scan(scan_world, 2 if QUICK else 3)
    big = scan_world if QUICK else world("big-1000x50", 1000, 50)
    if not QUICK:
        # Floor and cold scan alternating, medians of 3: a single cold scan right after the world
        # was written once took 2.3x the floor that followed it.
        b = bench_scan(big, 3)
        res["big"] = {"projects": b["projects"], "warm_refresh_s": b["warm_refresh_s"],
                      "single_change_ms_median": b["single_change_ms_median"], "cold_refresh_s": b["cold_scan_s"],
                      "cold_refresh_spread_s": b["cold_scan_spread_s"], "floor_s": b["baseline_cat_sha256sum_s"],
                      "floor_spread_s": b["baseline_spread_s"]}
    res["scaling"] = bench_scaling((100, 1000) if QUICK else (100, 1000, 4000), 20, 1 if QUICK else 3)
    db = big / "home" / "cache" / "projcache.db"
    res["startup"] = bench_startup(big, db, 2 if QUICK else 5)
    srv = Server(big)  # the world cached by bench_startup
    try:
        srv.wait_quiet()  # the start's verification pass done before reading idle RSS
        res["server"] = {"listen_s": srv.listen_s, "ready_s": srv.ready_s, "rss_idle_mb": rss_mb(srv.p.pid),
                         "db_mb": db.stat().st_size / 1e6}
        res["rest"] = bench_rest(srv, 2 if QUICK else 3, 1 if QUICK else 3)  # 3 s of wrk: about 150,000 requests a window
        res["latency"] = asyncio.run(latency(srv, big, 30 if QUICK else 100))
    finally:
        srv.stop()
    res["watchers"] = bench_watchers(big, 20 if QUICK else 60, 5 if QUICK else 10)
    res["lifecycle"] = bench_lifecycle(big, 2 if QUICK else 3)
    res["polite"] = bench_polite(big, 3 if QUICK else 5, 2 if QUICK else 3)
    res["fanout"] = bench_fanout(big, 200 if QUICK else 1000, 2000 if QUICK else 10000, 250, 1 if QUICK else 2)
    if os.environ.get("BENCH_T0"):  # set by bench/run before it installs and builds anything
        res["elapsed_s"] = time.time() - float(os.environ["BENCH_T0"])
    report(res)


if __name__ == "__main__":
    main()
