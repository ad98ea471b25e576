import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BINARY = os.environ.get("PROJCACHE_BINARY", str(Path(__file__).resolve().parents[3] / "build" / "test" / "projcache"))


def write(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


@pytest.fixture
def world(tmp_path):
    """A collection with two commands, one project deploying both; `review` is outdated."""
    home, dev = tmp_path / "home", tmp_path / "dev"
    col = home / "collections" / "default"
    write(col / "commands" / "review.md", "---\nversion: 1.2.0\n---\nnew\n")
    write(col / "commands" / "plan.md", "plan\n")
    write(col / "collection.toml", '[collection]\nname = "default"\n\n'
          '[[artifacts]]\nname = "review"\ntype = "command"\npath = "commands/review.md"\n\n'
          '[artifacts.metadata]\nversion = "1.2.0"\n\n'
          '[[artifacts]]\nname = "plan"\ntype = "command"\npath = "commands/plan.md"\n')
    claude = dev / "app" / ".claude"
    old = "---\nversion: 1.0.0\n---\nold\n"
    write(claude / "commands" / "review.md", old)
    shutil.copy(col / "commands" / "plan.md", claude / "commands" / "plan.md")
    entries = [("review", hashlib.sha256(old.encode()).hexdigest()), ("plan", hashlib.sha256(b"plan\n").hexdigest())]
    write(claude / ".skillmeat-deployed.toml", "".join(
        f'[[deployed]]\nartifact_name = "{n}"\nartifact_type = "command"\nfrom_collection = "default"\n'
        f'artifact_path = "commands/{n}.md"\ncontent_hash = "{h}"\n\n' for n, h in entries))
    past = 1_600_000_000
    for f in tmp_path.rglob("*"):
        os.utime(f, (past, past))
    return {"home": home, "dev": dev, "app": dev / "app",
            "env": {"SKILLMEAT_HOME": str(home), "SKILLMEAT_CACHE_SEARCH_ROOTS": str(dev), "SKILLMEAT_CACHE_DEBOUNCE_MS": "30"}}


def wait_for(cond, timeout=15.0):
    """Polls a condition until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def pytest_configure(config):
    """The run for a current websockets must really import it, not fall back to Debian 12's."""
    expected = os.environ.get("PROJCACHE_EXPECT_WEBSOCKETS")
    if expected:
        import websockets
        if websockets.__version__.split(".")[0] != expected:
            raise pytest.UsageError(f"expected websockets {expected}.x on PYTHONPATH, found {websockets.__version__} "
                                    f"at {websockets.__file__}: run scripts/current_pylibs.sh build/pylibs")


def pid_of(path) -> str:
    import base64
    return base64.b64encode(str(path).encode()).decode()


def outside_project(root: Path, name: str, synced: bool = False) -> Path:
    """A project outside every search root with the world's `review` command: the collection's
    copy (1.2.0) when synced, else an older one (1.0.0, outdated)."""
    p = root / "outside" / name
    text = "---\nversion: 1.2.0\n---\nnew\n" if synced else "---\nversion: 1.0.0\n---\nold\n"
    write(p / ".claude" / "commands" / "review.md", text)
    write(p / ".claude" / ".skillmeat-deployed.toml",
          '[[deployed]]\nartifact_name = "review"\nartifact_type = "command"\nfrom_collection = "default"\n'
          f'artifact_path = "commands/review.md"\ncontent_hash = "{hashlib.sha256(text.encode()).hexdigest()}"\n')
    past = 1_600_000_000
    for f in [p, *p.rglob("*")]:
        os.utime(f, (past, past))
    return p.resolve()


@pytest.fixture(autouse=True)
def sidecars_stop_cleanly(monkeypatch):
    """Every server a test starts must stop cleanly on SIGTERM: exit 0 and no sanitizer report in
    its stderr (the test build runs with ASan and UBSan). A test whose server is already gone
    when it is stopped (it exited or was killed on purpose) is only checked for reports."""
    from projcache.sidecar import Sidecar

    problems = []
    original = Sidecar.stop

    def checked_stop(self, timeout: float = 5.0):
        running = self.process is not None and self.process.poll() is None
        rc = original(self, timeout)
        tail = list(self._stderr)
        report = any("Sanitizer" in line or "runtime error:" in line for line in tail)
        if report or (running and rc != 0):
            problems.append(f"projcache exited {rc} on SIGTERM; its last stderr lines:\n" + "\n".join(tail))
        return rc

    monkeypatch.setattr(Sidecar, "stop", checked_stop)
    yield
    assert not problems, "\n\n".join(problems)
