"""projcache.skillmeat.CacheManager against a real sidecar on a world written to disk.

The expectations are SkillMeat's own (tests/integration/test_cache_integration.py) where they
make sense for a cache derived from disk: SkillMeat's tests hand the manager rows, ours write
the projects' files and hand it their paths.
"""
import threading
from datetime import datetime, timedelta

import pytest

from conftest import BINARY, outside_project, pid_of, wait_for, write
from projcache import Sidecar
from projcache.skillmeat import Artifact, CacheManager, Project


@pytest.fixture
def sidecar(world):
    with Sidecar(BINARY, env=world["env"]) as sc:
        yield sc


@pytest.fixture
def manager(sidecar):
    return CacheManager(sidecar.client())


@pytest.fixture
def outside(tmp_path):
    """Two projects outside the search roots; proj-2's review is outdated (1.0.0 vs 1.2.0)."""
    one = outside_project(tmp_path, "proj-1", synced=True)
    two = outside_project(tmp_path, "proj-2")
    write(one / ".claude" / ".skillmeat-project.toml", '[project]\nname = "Project 1"\ndescription = "first"\n')
    return one, two


# --- TestCachePopulation
def test_populate_projects_registers_and_reads_them_from_disk(manager, outside):
    one, two = outside
    assert manager.populate_projects([{"id": "ignored", "name": "x", "path": str(one)}, {"path": str(two)}]) == 2
    ids = {p.id for p in manager.get_projects()}
    assert {pid_of(one), pid_of(two)} <= ids and len(ids) == 3  # plus the world's app
    p1 = manager.get_project(pid_of(one))
    assert isinstance(p1, Project) and p1.name == "Project 1" and p1.description == "first"  # from its files
    assert [a.name for a in p1.artifacts] == ["review"]
    assert isinstance(p1.artifacts[0], Artifact) and p1.artifacts[0].project_id == p1.id


def test_populate_updates_an_existing_project_from_its_files(manager, outside):
    one, _ = outside
    manager.upsert_project({"path": str(one)})
    write(one / ".claude" / ".skillmeat-project.toml", '[project]\nname = "Updated Project 1"\ndescription = "Updated description"\n')
    assert manager.populate_projects([{"path": str(one)}]) == 1
    assert manager.refresh_if_stale(pid_of(one), force=True) is True
    p = manager.get_project(pid_of(one))
    assert p.name == "Updated Project 1" and p.description == "Updated description"


def test_populate_detects_outdated_artifacts(manager, outside, world):
    manager.populate_projects([{"path": str(p)} for p in outside])
    outdated = manager.get_outdated_artifacts()
    assert {a.project_id for a in outdated} == {pid_of(outside[1]), pid_of(world["app"])}
    a = next(a for a in outdated if a.project_id == pid_of(outside[1]))
    assert a.is_outdated is True and a.deployed_version == "1.0.0" and a.upstream_version == "1.2.0"
    assert a.drift == "outdated" and isinstance(a.updated_at, datetime)


def test_populate_handles_partial_failures(manager, outside, tmp_path):
    (tmp_path / "not-a-project").mkdir()
    count = manager.populate_projects([{"path": str(tmp_path / "not-a-project")}, {"path": str(outside[0])}, {"name": "no path"}])
    assert count == 1
    assert manager.get_project(pid_of(outside[0])) is not None
    assert manager.get_project(pid_of(tmp_path / "not-a-project")) is None


# --- TestTTLBasedRefresh
def test_fresh_projects_are_not_stale_and_invalidated_ones_are(manager, world):
    app = pid_of(world["app"])
    assert manager.is_cache_stale(app) is False
    assert manager.is_cache_stale() is False
    assert manager.refresh_if_stale(app) is False  # fresh: nothing to do
    assert manager.invalidate_cache(app) == 1
    # Lists do not count as reads of a project, so these see the invalidated state as it is.
    assert manager.is_cache_stale() is True
    assert [p.id for p in manager.get_projects(include_stale=False)] == []
    # Reading the project answers from the cache as it was, and then (projcache's behaviour,
    # not SkillMeat's) refreshes it in the background: it is fresh again by itself.
    assert manager.is_cache_stale(app) is True
    assert wait_for(lambda: manager.get_project(app).status == "active")
    p = manager.get_project(app)
    assert manager.is_cache_stale(app) is False and manager.refresh_if_stale(app) is False
    assert datetime.utcnow() - p.last_fetched < timedelta(minutes=1)
    # A read while the project was stale, during its refresh, queues one more run after it
    # (files may have changed after the scan began), which moves last_fetched again: compared
    # once both reads see the same run, the method answers the project's own fetch time.
    assert wait_for(lambda: manager.get_last_refresh_time(app) == manager.get_project(app).last_fetched)
    assert manager.get_last_refresh_time(app) >= p.last_fetched
    assert manager.refresh_if_stale(app, force=True) is True
    assert manager.get_project(app).last_fetched > p.last_fetched


def test_a_missing_project_is_stale_and_not_found(manager):
    assert manager.get_project("nope") is None and manager.get_artifacts("nope") == []
    assert manager.is_cache_stale("nope") is True
    assert manager.refresh_if_stale("nope", force=True) is False
    assert manager.invalidate_cache("nope") == 0


# --- TestCacheInvalidation
def test_invalidate_single_and_entire_cache(manager, outside, world):
    manager.populate_projects([{"path": str(outside[0])}])
    assert manager.invalidate_cache(pid_of(outside[0])) == 1
    assert manager.is_cache_stale(pid_of(outside[0])) and not manager.is_cache_stale(pid_of(world["app"]))
    assert manager.invalidate_cache() == 2
    assert manager.is_cache_stale(pid_of(world["app"]))


def test_clear_cache_rebuilds_every_row_from_disk(manager, outside, world):
    manager.populate_projects([{"path": str(outside[0])}])
    before = manager.get_project(pid_of(world["app"]))
    assert manager.clear_cache() is True
    # SkillMeat's clear leaves nothing; ours finds the projects on disk again at once, with new rows.
    after = manager.get_project(pid_of(world["app"]))
    assert after.created_at > before.created_at
    assert {p.id for p in manager.get_projects()} == {pid_of(world["app"]), pid_of(outside[0])}


# --- TestConcurrentOperations
def test_concurrent_reads_and_writes(manager, outside):
    errors, counts = [], []

    def read():
        try:
            for _ in range(20):
                counts.append(len(manager.get_projects()))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    def write_once(path):
        try:
            assert manager.upsert_project({"path": str(path)})
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(4)] + [threading.Thread(target=write_once, args=(p,)) for p in outside]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert all(1 <= c <= 3 for c in counts) and len(counts) == 80
    assert len(manager.get_projects()) == 3


# --- TestErrorRecovery
def test_a_broken_project_is_in_error_and_recovers(manager, outside):
    one, pid = outside[0], pid_of(outside[0])
    manager.upsert_project({"path": str(one)})
    deployed = one / ".claude" / ".skillmeat-deployed.toml"
    good = deployed.read_text()
    deployed.write_text("[[deployed]\nbroken")
    # The watcher refreshes it as well; either way it ends in error, its last good rows kept.
    manager.refresh_if_stale(pid, force=True)
    assert wait_for(lambda: manager.get_project(pid).status == "error")
    p = manager.get_project(pid)
    assert ".skillmeat-deployed.toml" in p.error_message
    assert [a.name for a in p.artifacts] == ["review"]
    deployed.write_text(good)
    manager.refresh_if_stale(pid, force=True)
    assert wait_for(lambda: manager.get_project(pid).status == "active")
    assert manager.get_project(pid).error_message is None


def test_cache_status_and_an_empty_cache(manager, tmp_path):
    st = manager.get_cache_status()
    assert st["total_projects"] == 1 and st["total_artifacts"] == 2 and st["outdated_artifacts"] == 1
    assert st["cache_size_bytes"] > 0 and isinstance(st["last_refresh"], datetime)
    with Sidecar(BINARY, env={"SKILLMEAT_HOME": str(tmp_path / "empty"), "SKILLMEAT_CACHE_SEARCH_ROOTS": str(tmp_path / "none")}) as sc:
        empty = CacheManager(sc.client()).get_cache_status()
        assert empty["total_projects"] == 0 and empty["total_artifacts"] == 0 and empty["oldest_entry"] is None


# --- search, by path, marketplace
def test_search_returns_whole_rows_with_their_score(manager, world):
    items, total = manager.search_artifacts("REV")
    assert total == 1 and items[0].name == "review" and items[0].score == 80.0
    assert items[0].deployed_version == "1.0.0" and items[0].drift == "outdated"  # the row's fields too
    assert manager.search_artifacts("plan", artifact_type="skill") == ([], 0)
    items, total = manager.search_artifacts("plan", project_id=pid_of(world["app"]), skip=0, limit=1)
    assert total == 1 and items[0].project_name == "app"
    assert manager.search_artifacts("plan", project_id="nope") == ([], 0)
    assert manager.search_artifacts("plan", skip=1) == ([], 1)


def test_project_by_path_resolves_the_path(manager, world, tmp_path):
    link = tmp_path / "link-to-app"
    link.symlink_to(world["app"])
    assert manager.get_project_by_path(str(link)).id == pid_of(world["app"])
    assert manager.get_project_by_path(str(tmp_path / "nowhere")) is None
    assert manager.get_marketplace_entries() == [] and manager.get_marketplace_entries(entry_type="skill") == []


def test_to_dict_gives_the_fields_back(manager, world):
    d = manager.get_project(pid_of(world["app"])).to_dict()
    assert d["id"] == pid_of(world["app"]) and {a["name"] for a in d["artifacts"]} == {"review", "plan"}
    assert wait_for(manager.initialize_cache)
