"""An end-to-end oracle: a seeded random world is written to disk, every artifact's three hashes
and its drift are computed here, independently (hashlib and the contract's rules, section 1.6
and 1.8), and compared with what the real server derives from the same files."""
import base64
import hashlib
import os
import random
import shutil
import tomllib  # Python 3.11, Debian 12's

from conftest import BINARY, write
from projcache import Client, Sidecar

NAMES = ["a", "b", "a-b", "A", "Z", ".hidden", "b.md", "x y", "ü", "日本", "a.b", "_"]


def file_hash(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def folder_hash(d):
    """Every regular file below d (symlinked files as their target, symlinked folders not entered),
    sorted by path components, each fed as its POSIX relative path then its bytes."""
    files = []
    for root, dirs, names in os.walk(d, followlinks=False):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p):
                files.append(os.path.relpath(p, d).split(os.sep))
    h = hashlib.sha256()
    for parts in sorted(files):
        h.update("/".join(parts).encode())
        h.update(open(os.path.join(d, *parts), "rb").read())
    return h.hexdigest()


def content_hash(p):
    if p.is_dir():
        return folder_hash(p)
    return file_hash(p) if p.is_file() else None


def random_tree(rng, root, depth=0):
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(NAMES)
        if depth < 2 and rng.random() < 0.3:
            random_tree(rng, root / name, depth + 1)
        else:
            write(root / name, "".join(rng.choice("abc\n") for _ in range(rng.randint(0, 300))))


def build(tmp_path, seed=20261201, projects=6, per_project=8):
    rng = random.Random(seed)
    home, dev = tmp_path / "home", tmp_path / "dev"
    col = home / "collections" / "default"
    arts = []
    for i in range(per_project * 2):
        kind = rng.choice(["skill", "command", "agent"])
        name = f"{kind}-{i}"
        rel = f"skills/{name}" if kind == "skill" else f"{kind}s/{name}.md"
        if kind == "skill":
            random_tree(rng, col / rel)
            write(col / rel / "SKILL.md", f"---\nversion: 1.{i}.0\n---\n{name}\n")
        else:
            write(col / rel, f"{name} body {rng.random()}\n")
        arts.append((name, kind, rel))
    write(col / "collection.toml", '[collection]\nname = "default"\n\n' + "".join(
        f'[[artifacts]]\nname = "{n}"\ntype = "{k}"\npath = "{r}"\n\n' for n, k, r in arts if not n.endswith("-0")))
    for p in range(projects):
        claude = dev / f"proj-{p}" / ".claude"
        entries = []
        for name, kind, rel in rng.sample(arts, per_project):
            src, dst = col / rel, claude / rel
            if src.is_dir():
                for f in src.rglob("*"):
                    if f.is_file():
                        write(dst / f.relative_to(src), f.read_text())
            else:
                write(dst, src.read_text())
            fate = rng.random()
            first = next(f for f in sorted(dst.rglob("*")) if f.is_file()) if dst.is_dir() else dst
            if 0.25 <= fate < 0.35:  # deployed from an older version: the collection moved on since
                first.write_text("an older version\n" + first.read_text())
            deployed = content_hash(dst)
            if fate < 0.15:  # edited locally
                first.write_text(first.read_text() + "local edit\n")
            elif fate < 0.25:  # gone from disk
                shutil.rmtree(dst) if dst.is_dir() else dst.unlink()
            elif fate < 0.35:
                pass  # outdated (above)
            elif fate < 0.4 and dst.is_dir():  # a symlinked file counts as its target
                (dst / "link.md").symlink_to(dst / "SKILL.md")
            entries.append((name, kind, rel, deployed))
        write(claude / ".skillmeat-deployed.toml", "".join(
            f'[[deployed]]\nartifact_name = "{n}"\nartifact_type = "{k}"\nfrom_collection = "default"\n'
            f'artifact_path = "{r}"\ncontent_hash = "{h}"\n\n' for n, k, r, h in entries))
    past = 1_600_000_000
    for f in tmp_path.rglob("*"):
        if not f.is_symlink():
            os.utime(f, (past, past))
    in_collection = {(n, k): r for n, k, r in arts if not n.endswith("-0")}
    return home, dev, col, in_collection


def expected(dev, col, in_collection):
    out = {}
    for proj in sorted(dev.iterdir()):
        pid = base64.b64encode(str(proj.resolve()).encode()).decode()
        for e in tomllib.loads((proj / ".claude" / ".skillmeat-deployed.toml").read_text())["deployed"]:
            local = content_hash(proj / ".claude" / e["artifact_path"])
            rel = in_collection.get((e["artifact_name"], e["artifact_type"]))
            coll = content_hash(col / rel) if rel else None
            dep = e["content_hash"]
            if local is None:
                drift = "missing"
            elif rel is None:
                drift = "removed"
            elif local == dep == coll:
                drift = "synced"
            elif local == dep:
                drift = "outdated"
            elif coll == dep:
                drift = "modified"
            else:
                drift = "conflict"
            out[f"{pid}:.claude:{e['artifact_type']}:{e['artifact_name']}"] = {
                "drift": drift, "deployed_hash": dep, "local_hash": local, "collection_hash": coll,
                "local_modified": local is not None and local != dep,
                "is_outdated": drift != "missing" and coll is not None and coll != dep}
    return out


def test_every_artifact_matches_an_independent_derivation(tmp_path):
    home, dev, col, in_collection = build(tmp_path)
    want = expected(dev, col, in_collection)
    assert {w["drift"] for w in want.values()} >= {"synced", "modified", "missing", "outdated"}  # the world has variety
    with Sidecar(BINARY, env={"SKILLMEAT_HOME": str(home), "SKILLMEAT_CACHE_SEARCH_ROOTS": str(dev)}) as sc:
        got = {a["id"]: a for a in Client(sc.url).artifacts(limit=500)["items"]}
    assert set(got) == set(want)
    for aid, w in want.items():
        for key, value in w.items():
            if key == "local_hash" and value is None:
                continue  # missing: nothing to hash
            assert got[aid][key] == value, (aid, key)
