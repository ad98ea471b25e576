"""The marketplace cache against local HTTP and HTTPS servers (a self-signed certificate that the
server is told to trust through SSL_CERT_FILE)."""
import http.server
import json
import ssl
import subprocess
import threading
import time

import pytest

from conftest import BINARY, wait_for
from projcache import Client, EventStream, Sidecar

LISTINGS = [
    {"listing_id": "l-1", "name": "Canvas", "source_url": "https://example.com/canvas", "description": "Draw",
     "publisher": "acme", "license": "MIT", "artifact_count": 3, "price": 0, "tags": ["design"], "version": "1.0.0",
     "downloads": 10, "rating": 4.5},
    {"listing_id": "l-2", "name": "Review", "source_url": "https://example.com/review", "description": None,
     "publisher": "acme", "license": "MIT", "artifact_count": 1, "price": 0, "tags": [], "version": "0.1.0",
     "downloads": 1, "rating": 3.0},
]


class Handler(http.server.BaseHTTPRequestHandler):
    body = json.dumps({"listings": LISTINGS}).encode()
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def serve(tls_dir=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


async def first_event(url, type_):
    """The first event of a type this server run published, replayed from seq 0 if it came before we connected."""
    stream = EventStream(url, types=[type_], since=0)
    try:
        async for ev in stream:
            return ev
    finally:
        await stream.close()


def test_http_listings_are_mapped(world):
    srv = serve()
    env = dict(world["env"], SKILLMEAT_CACHE_MARKETPLACE_URL=f"http://127.0.0.1:{srv.server_port}/listings")
    try:
        with Sidecar(BINARY, env=env) as sc:
            c = Client(sc.url)
            assert wait_for(lambda: c.marketplace()["total"] == 2)
            items = {i["id"]: i for i in c.marketplace()["items"]}
            canvas = items["l-1"]
            assert canvas["name"] == "Canvas" and canvas["type"] == "skill" and canvas["url"] == "https://example.com/canvas"
            assert canvas["description"] == "Draw"
            assert canvas["data"]["publisher"] == "acme" and canvas["data"]["rating"] == 4.5
            assert "listing_id" not in canvas["data"]
            assert canvas["cached_at"].endswith("Z")
            assert c.marketplace(type="skill", limit=1)["total"] == 2
    finally:
        srv.shutdown()


def redirector(location):
    """A server that answers every GET with 302 to `location`."""
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_a_redirect_is_followed_and_a_dead_port_reported(world, tmp_path):
    import asyncio
    srv = serve()
    hop = redirector(f"http://127.0.0.1:{srv.server_port}/listings")
    env = dict(world["env"], SKILLMEAT_CACHE_MARKETPLACE_URL=f"http://127.0.0.1:{hop.server_port}/old")
    try:
        with Sidecar(BINARY, env=env) as sc:
            assert wait_for(lambda: Client(sc.url).marketplace()["total"] == 2)
        # Nothing listens there: one line saying so, no library internals.
        hop.shutdown()
        hop.server_close()
        env["SKILLMEAT_CACHE_PATH"] = str(tmp_path / "other.db")
        with Sidecar(BINARY, env=env) as sc:
            ev = asyncio.run(asyncio.wait_for(first_event(sc.url, "refresh_error"), 15))
            assert ev["error"].startswith(f"marketplace fetch failed: cannot connect to 127.0.0.1:{hop.server_port} ("), ev["error"]
            assert "[" not in ev["error"] and ".hpp" not in ev["error"], ev["error"]
    finally:
        srv.shutdown()


def test_https_with_a_trusted_self_signed_certificate(world, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    srv = serve(tmp_path)
    env = dict(world["env"], SKILLMEAT_CACHE_MARKETPLACE_URL=f"https://localhost:{srv.server_port}/listings",
               SSL_CERT_FILE=str(tmp_path / "cert.pem"))
    try:
        with Sidecar(BINARY, env=env) as sc:
            assert wait_for(lambda: Client(sc.url).marketplace()["total"] == 2)
        # Without trusting the certificate the fetch fails, and says so.
        del env["SSL_CERT_FILE"]
        env["SKILLMEAT_CACHE_PATH"] = str(tmp_path / "other.db")
        with Sidecar(BINARY, env=env) as sc:
            import asyncio
            ev = asyncio.run(asyncio.wait_for(first_event(sc.url, "refresh_error"), 15))
            assert ev["details"]["source"] == "marketplace"
            assert "certificate" in ev["error"], ev["error"]
            assert Client(sc.url).marketplace()["total"] == 0  # after the failure: nothing was stored
    finally:
        srv.shutdown()


def test_failed_fetch_keeps_old_entries_and_reports(world):
    import asyncio
    srv = serve()
    env = dict(world["env"], SKILLMEAT_CACHE_MARKETPLACE_URL=f"http://127.0.0.1:{srv.server_port}/listings")
    try:
        with Sidecar(BINARY, env=env) as sc:
            c = Client(sc.url)
            assert wait_for(lambda: c.marketplace()["total"] == 2)
            Handler.body = b"{not json"

            async def refresh_and_wait_error():
                stream = EventStream(sc.url, types=["refresh_error"])
                got = asyncio.get_running_loop().create_future()

                async def consume():
                    async for ev in stream:
                        if not got.done():
                            got.set_result(ev)

                task = asyncio.create_task(consume())
                while stream.last_seq is None:
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(c.refresh, None, True)  # forced: refetches the marketplace
                ev = await got
                await stream.close()
                task.cancel()
                return ev

            ev = asyncio.run(asyncio.wait_for(refresh_and_wait_error(), 15))
            assert "not JSON" in ev["error"]
            assert c.marketplace()["total"] == 2  # the old entries stay
    finally:
        Handler.body, Handler.status = json.dumps({"listings": LISTINGS}).encode(), 200
        srv.shutdown()
