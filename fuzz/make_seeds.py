#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<harness>/ (committed).

Requests and messages are the ones the tests send; the TOML and markdown seeds come from the
demo world (`projcache demo DIR`, passed as the argument), so they follow its formats.
"""
import base64, hashlib, pathlib, sys

here = pathlib.Path(__file__).resolve().parent
demo = pathlib.Path(sys.argv[1])


def put(harness, data):
    d = here / "corpus" / harness
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


fuzz_world = pathlib.Path("/tmp/projcache-fuzz-http")  # where fuzz_http writes its demo world
app_id = base64.b64encode(str(fuzz_world / "dev" / "webapp").encode()).decode()
H = "Host: localhost\r\n"
for target in ["/healthz", "/readyz", "/api/v1/cache/status", "/api/v1/cache/projects?status=stale&skip=1&limit=2",
               "/api/v1/cache/projects/" + app_id, "/api/v1/cache/projects/" + app_id.replace("/", "%2F"),
               "/api/v1/cache/artifacts?project_id=%s&type=skill&is_outdated=true&limit=5" % app_id,
               "/api/v1/cache/stale-artifacts?sort_by=version_diff&sort_order=desc",
               "/api/v1/cache/search?query=lint&sort_by=name&type=skill&skip=0&limit=10",
               "/api/v1/cache/marketplace?type=skill", "/api/v1/projects/cache/stats", "/metrics", "/",
               "/assets/app.js", "/nope?x=%zz"]:
    put("fuzz_http", "GET %s HTTP/1.1\r\n%sX-API-Key: fuzz-key\r\n\r\n" % (target, H))
put("fuzz_http", "HEAD /api/v1/cache/status HTTP/1.1\r\n%sX-API-Key: fuzz-key\r\nIf-None-Match: *\r\n\r\n" % H)
for target, body in [("/api/v1/cache/refresh", '{"project_id": "%s", "force": true}' % app_id),
                     ("/api/v1/cache/refresh", ""), ("/api/v1/cache/invalidate", '{"project_id": null}'),
                     ("/api/v1/projects/cache/refresh", '{"project_id": "%s"}' % app_id),
                     ("/api/v1/cache/projects", '{"path": "%s"}' % (fuzz_world / "dev" / "tools")),
                     ("/api/v1/cache/refresh", '{"project_id": 5, "force": "maybe"}')]:
    put("fuzz_http", "POST %s HTTP/1.1\r\n%sX-API-Key: fuzz-key\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\n\r\n%s" % (target, H, len(body), body))
put("fuzz_http", "POST /api/v1/cache/invalidate HTTP/1.1\r\n%sX-API-Key: fuzz-key\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n4\r\n{}  \r\n0\r\n\r\n" % H)
put("fuzz_http", "POST /api/v1/cache/invalidate HTTP/1.1\r\n%sExpect: 100-continue\r\nContent-Length: 2\r\n"
    "Origin: http://evil.example\r\nContent-Type: text/plain\r\n\r\n{}" % H)
put("fuzz_http", "DELETE /api/v1/cache/projects/%s HTTP/1.1\r\n%sX-API-Key: fuzz-key\r\n\r\n" % (app_id, H))
put("fuzz_http", "OPTIONS /api/v1/cache/status HTTP/1.1\r\n%sOrigin: http://localhost:3000\r\n"
    "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: X-API-Key\r\n\r\n" % H)
put("fuzz_http", "GET /api/v1/cache/events HTTP/1.1\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: apikey.fuzz-key\r\n\r\n" % H)

for m in ['{"op":"ping"}', '{"op":"unsubscribe"}', '{"op":"subscribe"}',
          '{"op":"subscribe","types":["refresh_completed","changes_detected"],"project_ids":["%s"]}' % app_id,
          '{"op":"subscribe","since":12,"epoch":"abc"}', '{"op":"subscribe","since":-1}', '{"op":"dance"}', "{not json"]:
    put("fuzz_ws_message", m)

toml = {0: demo.glob("home/collections/*/collection.toml"), 1: demo.glob("home/collections/*/collection.lock"),
        2: demo.glob("dev/*/.claude/.skillmeat-deployed.toml"), 3: demo.glob("dev/*/.claude/.skillmeat-project.toml")}
for selector, files in toml.items():
    for f in files:
        put("fuzz_toml", bytes([selector]) + f.read_bytes())
for f in sorted(demo.glob("dev/*/.claude/**/*.md"))[:8]:
    put("fuzz_front_matter", f.read_bytes())
put("fuzz_front_matter", "---\nname: x\nversion: \"1.2.0\"\n---\nbody\n")

for a, b in [("1.0.0", "2.0.0"), ("v1.2.3", "1.3.0"), ("1.0.0-beta", "1.0.0"), ("1.0.0", "1.0.0-rc.1"),
             ("1.0.0+build", "1.0.0"), ("abc", "def"), ("01.2.3", "1.2.3")]:
    put("fuzz_version_diff", b"\x00" + ("%s\n%s" % (a, b)).encode())

for s in [app_id, base64.b64encode("/tmp/über-app".encode()).decode(), "L2E=", "L2E", "skills/lint",
          "../x", "/etc/passwd", "a/./b", ""]:
    put("fuzz_ids_paths", s)

# fuzz_snapshot: the counts (texts, projects, artifacts), then a payload as
# cache/snapshot_file.cpp lays it out: texts, projects, then the groups of fixed row records.
import struct
texts = [b"p1", b"name", b"/dev/p1", b"active", b"p1:.claude:skill:a", b"skill", b"synced", b".claude", b"x,y"]
payload = b"".join(struct.pack("<I", len(t)) + t for t in texts)
NONE = 0xFFFFFFFF
payload += struct.pack("<6I4q", 0, 1, 2, NONE, 3, NONE, 1, 2, 1, 3)
refs = [0, 1, 5, NONE, NONE, NONE, 7, NONE, NONE, NONE, NONE, NONE, 6, NONE, NONE, 8, NONE, NONE]
payload += struct.pack("<I", 1) + struct.pack("<II", 0, 1) + struct.pack("<19I", 4, *refs) + struct.pack("<Iqq", 1, 10, 20)
put("fuzz_snapshot", struct.pack("<3I", len(texts), 1, 1) + payload)
put("fuzz_snapshot", struct.pack("<3I", len(texts), 1, 0) + payload[:payload.index(struct.pack("<I", 1) + struct.pack("<II", 0, 1))] + struct.pack("<I", 0))

