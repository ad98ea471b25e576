"""Start projcache as a sidecar and print what it found.

    python3 sidecar_status.py [SKILLMEAT_HOME [SEARCH_ROOT ...]]

Without arguments it serves $SKILLMEAT_HOME (or ~/.skillmeat) and the default search roots.
"""
import sys

from projcache import Sidecar


def main(argv):
    home = argv[1] if len(argv) > 1 else None
    roots = argv[2:] or None
    # The binary: the one bundled in the wheel, else $PROJCACHE_BINARY, else `projcache` on PATH.
    with Sidecar(home=home, search_roots=roots) as sc:  # returns once the first scan is done
        api = sc.client()
        st = api.status()
        print(f"{st['total_projects']} projects, {st['total_artifacts']} artifacts, "
              f"{st['outdated_artifacts']} outdated (served at {sc.url})")
        for p in api.projects()["items"]:
            print(f"  project {p['name']}: {p['artifact_count']} artifacts, {p['status']}")
        for a in api.stale_artifacts(sort_by="version_diff")["items"]:
            print(f"  outdated {a['project_name']}/{a['name']}: {a['deployed_version']} -> "
                  f"{a['upstream_version']} ({a['version_difference']})")


if __name__ == "__main__":
    main(sys.argv)
