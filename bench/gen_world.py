#!/usr/bin/env python3
"""Writes a benchmark SkillMeat world: OUT/home (one collection) and OUT/dev/pNNNN projects.

usage: gen_world.py OUT [--projects N] [--artifacts M] [--seed S]

Each project deploys M artifacts from the collection: skill folders (SKILL.md + 1-3 files) and
single-file commands/agents, files of 1-20 KiB. About 5% of artifacts are outdated and 3% locally
modified, so every list has something in it. Standard library only.
"""
import argparse
import hashlib
import os
import random
import shutil
from pathlib import Path


def content_hash(p: Path) -> str:
    h = hashlib.sha256()
    if p.is_file():
        h.update(p.read_bytes())
    else:
        for f in sorted(p.rglob("*")):
            if f.is_file():
                h.update(str(f.relative_to(p)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def text(rng: random.Random, size: int) -> str:
    words = ["skill", "agent", "review", "deploy", "canvas", "lint", "docs", "test", "build", "cache"]
    out = []
    n = 0
    while n < size:
        w = rng.choice(words)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:size]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--projects", type=int, default=1000)
    ap.add_argument("--artifacts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = Path(a.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    col = out / "home" / "collections" / "default"
    arts = []
    for i in range(a.artifacts):
        kind = ("skill", "command", "agent")[i % 3]
        name = f"{kind}-{i:03d}"
        if kind == "skill":
            rel = f"skills/{name}"
            d = col / rel
            d.mkdir(parents=True)
            (d / "SKILL.md").write_text(f"---\nname: {name}\nversion: 1.{i % 7}.0\n---\n" + text(rng, rng.randint(1024, 20480)))
            for j in range(rng.randint(1, 3)):
                (d / f"ref{j}.md").write_text(text(rng, rng.randint(1024, 20480)))
        else:
            rel = f"{kind}s/{name}.md"
            f = col / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"---\nversion: 2.{i % 5}.1\n---\n" + text(rng, rng.randint(1024, 20480)))
        arts.append((name, kind, rel))

    hashes = {rel: content_hash(col / rel) for _, _, rel in arts}
    lines = ["[collection]", 'name = "default"', 'version = "1.0.0"', ""]
    for name, kind, rel in arts:
        lines += ["[[artifacts]]", f'name = "{name}"', f'type = "{kind}"', f'path = "{rel}"', 'origin = "local"', ""]
    (col / "collection.toml").write_text("\n".join(lines))
    (col / "collection.lock").write_text('[lock]\nversion = "1.0.0"\n')

    for p in range(a.projects):
        root = out / "dev" / f"p{p:04d}" / ".claude"
        root.mkdir(parents=True)
        dep = []
        for name, kind, rel in arts:
            src, dst = col / rel, root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copyfile(src, dst)
            h = hashes[rel]
            r = rng.random()
            if r < 0.08:
                target = dst / "SKILL.md" if dst.is_dir() else dst
                target.write_text(target.read_text() + "\nolder or edited copy\n")
                if r < 0.05:
                    h = content_hash(dst)  # deployed like this, the collection moved on: outdated
                # else: edited after deploying: modified
            dep += ["[[deployed]]", f'artifact_name = "{name}"', f'artifact_type = "{kind}"',
                    'from_collection = "default"', f'artifact_path = "{rel}"', f'content_hash = "{h}"', ""]
        (root / ".skillmeat-deployed.toml").write_text("\n".join(dep))
    print(out)


if __name__ == "__main__":
    main()
