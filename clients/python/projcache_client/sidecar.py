"""Starting and stopping the projcache binary as a child process (contract section 8)."""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from typing import Mapping, Optional, Sequence


class SidecarError(RuntimeError):
    """The server did not start, or did not report ready in time."""


class Sidecar:
    """Runs `projcache serve --port 0` (or the port asked for) and learns the port from the ready line.

    with Sidecar("/usr/bin/projcache", env={"SKILLMEAT_HOME": home}) as sc:
        Client(sc.url).status()
    """

    def __init__(self, binary: str = "projcache", args: Sequence[str] = (), env: Optional[Mapping[str, str]] = None,
                 ready_timeout: float = 30.0, port: int = 0):
        self.binary, self.args, self.ready_timeout, self.requested_port = binary, list(args), ready_timeout, port
        self.env = dict(os.environ, **(env or {}))
        self.process: Optional[subprocess.Popen] = None
        self.ready: dict = {}

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    @property
    def url(self) -> str:
        return self.ready.get("url") or f"http://127.0.0.1:{self.port}"

    def start(self) -> "Sidecar":
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.requested_port), "--exit-with-parent", "true", *self.args],
                                        env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        sel = selectors.DefaultSelector()
        sel.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.ready_timeout
        line = ""
        while not line.endswith("\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                self.stop()
                raise SidecarError(f"projcache did not report ready within {self.ready_timeout} s")
            chunk = self.process.stdout.readline()
            if not chunk:
                err = self.process.stderr.read() if self.process.stderr else ""
                code = self.process.wait()
                raise SidecarError(f"projcache exited with {code} before it was ready: {err.strip()}")
            line += chunk
        self.ready = json.loads(line)
        if self.ready.get("event") != "ready":
            self.stop()
            raise SidecarError(f"unexpected first line: {line!r}")
        return self

    def stop(self, timeout: float = 5.0) -> Optional[int]:
        """SIGTERM, then SIGKILL if it has not exited within timeout; returns the exit code."""
        p = self.process
        if p is None or p.poll() is not None:
            return None if p is None else p.returncode
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()
        finally:
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()

    def __enter__(self) -> "Sidecar":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
