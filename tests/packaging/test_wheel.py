"""The wheel scripts/wheel.sh built, installed into a fresh venv: a `projcache` command that
serves, a Sidecar that starts with no environment set, and a binary that needs only glibc."""
import glob
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DIST = os.environ.get("PROJCACHE_WHEEL_DIR", str(Path(__file__).resolve().parents[2] / "dist"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    wheels = glob.glob(os.path.join(DIST, "projcache-*-py3-none-manylinux_*.whl"))
    assert len(wheels) == 1, f"expected one platform wheel in {DIST} (run scripts/wheel.sh), found {wheels}"
    d = tmp_path_factory.mktemp("venv")
    # Debian's websockets stays visible, as it would be on a machine that has it.
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(d)], check=True)
    subprocess.run([str(d / "bin" / "pip"), "install", "--no-index", "--no-deps", "-q", wheels[0]], check=True)
    return d


def bare_env(home):
    """No PROJCACHE_BINARY, no SKILLMEAT_*: only what any shell has."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def site_binary(venv):
    found = glob.glob(str(venv / "lib" / "python3*" / "site-packages" / "projcache" / "bin" / "projcache"))
    assert len(found) == 1
    return found[0]


def test_the_bundled_binary_needs_only_glibc(venv):
    out = subprocess.run(["ldd", site_binary(venv)], capture_output=True, text=True, check=True).stdout
    libs = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert libs <= {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "/lib64/ld-linux-x86-64.so.2"}, out
    for name in ("boost", "sqlite", "libssl", "libcrypto", "toml", "libstdc++"):
        assert name not in out


def test_the_console_command_runs_the_bundled_binary(venv, tmp_path):
    version = subprocess.run([str(venv / "bin" / "python"), "-c", "import projcache; print(projcache.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    out = subprocess.run([str(venv / "bin" / "projcache"), "version"], env=bare_env(tmp_path), capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"projcache {version}"
    # It serves: the ready line, then a clean stop on SIGTERM.
    p = subprocess.Popen([str(venv / "bin" / "projcache"), "serve", "--port", "0", "--home", str(tmp_path / "home")],
                         env=bare_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready["event"] == "ready" and ready["port"] > 0
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err


def test_a_sidecar_starts_and_answers_with_no_environment_set(venv, tmp_path):
    script = ("from projcache import Sidecar\n"
              "with Sidecar() as sc:\n"
              "    print(sc.client().status()['total_projects'])\n")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script], env=bare_env(tmp_path), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"  # an empty home: nothing to find, and it said so
    # On the demo world the bundled binary writes, it finds its three projects.
    subprocess.run([str(venv / "bin" / "projcache"), "demo", str(tmp_path / "demo")], env=bare_env(tmp_path), check=True,
                   capture_output=True)
    script = ("import sys\nfrom projcache import Sidecar\n"
              "with Sidecar(home=sys.argv[1], search_roots=[sys.argv[2]]) as sc:\n"
              "    print(sc.client().status()['total_projects'])\n")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script, str(tmp_path / "demo" / "home"),
                          str(tmp_path / "demo" / "dev")], env=bare_env(tmp_path), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
