"""SkillMeat's `CacheManager`, answered by projcache: the method names and result attributes its
routers, CLI and repositories use, so a call site changes its import and nothing else.

projcache derives every row from disk, so the write methods do not store what they are given:
`populate_projects` and `upsert_project` register the projects' paths with the server and
refresh them, and the rows come from their files. As in SkillMeat, a project that is not there
reads as None or an empty list; a server that is not there raises `ProjcacheUnavailable`, so the
app can fall back to its own cache code.
"""
from __future__ import annotations

import base64
import logging
import os
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Tuple

from .client import Client, ProjcacheError, ProjcacheUnavailable

log = logging.getLogger("projcache")


def parse_time(text: Optional[str]) -> Optional[datetime]:
    """The API's `2026-11-24T10:00:00.000000Z` as a naive UTC datetime, as SkillMeat stores them."""
    if not text:
        return None
    return datetime.strptime(text.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")


def project_id_of(path: str) -> str:
    """SkillMeat's project id: standard base64 of the resolved absolute path."""
    return base64.b64encode(os.path.realpath(os.path.expanduser(path)).encode("utf-8", "surrogateescape")).decode()


class Record:
    """A row with attribute access; `to_dict()` gives the fields back."""

    _times: Tuple[str, ...] = ()

    def __init__(self, fields: Dict[str, Any]):
        for k, v in fields.items():
            setattr(self, k, parse_time(v) if k in self._times else v)

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'id', '?')!r} {getattr(self, 'name', '')!r}>"


class Artifact(Record):
    """SkillMeat's Artifact attributes (id, project_id, name, type, source, deployed_version,
    upstream_version, is_outdated, local_modified, updated_at) plus projcache's drift and hashes."""

    _times = ("created_at", "updated_at")


class MarketplaceEntry(Record):
    _times = ("cached_at",)


class Project(Record):
    """SkillMeat's Project attributes; `artifacts` is loaded on first use when the row came from a list."""

    _times = ("created_at", "updated_at", "last_fetched")

    def __init__(self, fields: Dict[str, Any], manager: "CacheManager"):
        fields = dict(fields)
        arts = fields.pop("artifacts", None)
        super().__init__(fields)
        self._manager = manager
        self._artifacts = None if arts is None else [Artifact(a) for a in arts]

    @property
    def artifacts(self) -> List[Artifact]:
        if self._artifacts is None:
            self._artifacts = self._manager.get_artifacts(self.id)
        return self._artifacts

    def to_dict(self) -> Dict[str, Any]:
        d = super().to_dict()
        d["artifacts"] = [a.to_dict() for a in self.artifacts]
        return d


class CacheManager:
    """Give it a Client, a `projcache.fastapi.Projcache`, or a URL (and key)."""

    page_size = 500  # the server's largest page

    def __init__(self, client: Optional[Client] = None, *, projcache: Any = None, url: Optional[str] = None,
                 api_key: Optional[str] = None, ttl_minutes: Optional[int] = None):
        if client is None and projcache is None and url is None:
            raise ValueError("CacheManager needs a client, a projcache (projcache.fastapi.Projcache) or a url")
        self._client, self._projcache = client, projcache
        self._url, self._api_key = url, api_key
        self._ttl_minutes = ttl_minutes

    # -- plumbing
    @property
    def client(self) -> Client:
        if self._client is not None:
            return self._client
        if self._projcache is not None:
            return self._projcache.client()  # raises ProjcacheUnavailable while it is down
        return Client(self._url, api_key=self._api_key)

    def _or_none(self, call, *args, **kw):
        try:
            return call(*args, **kw)
        except ProjcacheUnavailable:
            raise
        except ProjcacheError as e:
            if e.status == 404:
                return None
            raise

    def _pages(self, call, **params) -> Iterable[dict]:
        skip = 0
        while True:
            page = call(skip=skip, limit=self.page_size, **params)
            yield from page["items"]
            skip += len(page["items"])
            if not page["items"] or skip >= page["total"]:
                return

    @property
    def ttl_minutes(self) -> int:
        if self._ttl_minutes is None:
            self._ttl_minutes = int(round(self.client.projects_cache_stats()["cache_ttl"] / 60))
        return self._ttl_minutes

    def initialize_cache(self) -> bool:
        """True once the server has finished its first scan."""
        return self.client.ready()

    # -- projects
    def get_projects(self, include_stale: bool = True) -> List[Project]:
        c = self.client
        projects = [Project(p, self) for p in self._pages(c.projects)]
        if include_stale:
            return projects
        stale = {p["id"] for p in self._pages(c.projects, status="stale")}
        return [p for p in projects if p.id not in stale]

    def get_project(self, project_id: str) -> Optional[Project]:
        row = self._or_none(self.client.project, project_id)
        return None if row is None else Project(row, self)

    def get_project_by_path(self, path: str) -> Optional[Project]:
        return self.get_project(project_id_of(path))

    def is_cache_stale(self, project_id: Optional[str] = None) -> bool:
        """A project is stale past the TTL or never fetched (a missing one counts as stale); with no
        id, whether any project is."""
        if project_id is None:
            return self.client.projects(status="stale", limit=1)["total"] > 0
        p = self.get_project(project_id)
        if p is None or p.last_fetched is None or p.status == "stale":
            return True
        return p.last_fetched < datetime.utcnow() - timedelta(minutes=self.ttl_minutes)

    def get_last_refresh_time(self, project_id: Optional[str] = None) -> Optional[datetime]:
        if project_id is not None:
            p = self.get_project(project_id)
            return None if p is None else p.last_fetched
        return parse_time(self.client.status().get("last_refresh"))

    # -- artifacts
    def get_artifacts(self, project_id: str) -> List[Artifact]:
        row = self._or_none(self.client.project, project_id)
        return [] if row is None else [Artifact(a) for a in row.get("artifacts", [])]

    def get_outdated_artifacts(self) -> List[Artifact]:
        return [Artifact(a) for a in self._pages(self.client.artifacts, is_outdated=True)]

    def search_artifacts(self, query: str, project_id: Optional[str] = None, artifact_type: Optional[str] = None,
                         skip: int = 0, limit: int = 50, sort_by: str = "relevance") -> Tuple[List[Artifact], int]:
        """(items, total). Each item is the whole artifact row plus its `score` and `project_name`."""
        page = self.client.search(query, project_id=project_id, type=artifact_type, sort_by=sort_by, skip=skip,
                                  limit=min(max(limit, 1), 200))
        rows: Dict[str, Dict[str, dict]] = {}
        items = []
        for hit in page["items"]:
            if hit["project_id"] not in rows:
                detail = self._or_none(self.client.project, hit["project_id"]) or {"artifacts": []}
                rows[hit["project_id"]] = {a["id"]: a for a in detail["artifacts"]}
            items.append(Artifact({**rows[hit["project_id"]].get(hit["id"], {}), **hit}))
        return items, page["total"]

    # -- marketplace
    def get_marketplace_entries(self, entry_type: Optional[str] = None, type: Optional[str] = None) -> List[MarketplaceEntry]:
        return [MarketplaceEntry(m) for m in self._pages(self.client.marketplace, type=entry_type or type)]

    # -- writes
    def invalidate_cache(self, project_id: Optional[str] = None) -> int:
        r = self._or_none(self.client.invalidate, project_id)
        return 0 if r is None else int(r["invalidated_count"])

    def refresh_if_stale(self, project_id: str, force: bool = False) -> bool:
        """Refreshes the project from disk when forced or stale; True when it did."""
        if not force and not self.is_cache_stale(project_id):
            return False
        return self._or_none(self.client.refresh, project_id, force=True) is not None

    def clear_cache(self) -> bool:
        """Empties the cache; projects on disk are found again at once (their rows are rebuilt)."""
        return bool(self.client.projects_cache_clear()["success"])

    def upsert_project(self, project_data: Dict[str, Any]) -> bool:
        """Registers the project's `path` and refreshes it. Its other keys (name, artifacts, ...)
        come from disk, not from the dict. False when the path holds no SkillMeat deployment."""
        path = project_data.get("path")
        if not path:
            return False
        try:
            self.client.register_project(os.path.expanduser(str(path)))
        except ProjcacheUnavailable:
            raise
        except ProjcacheError as e:
            log.warning("projcache did not register %s: %s", path, e.detail)
            return False
        return True

    def populate_projects(self, projects: List[Dict[str, Any]]) -> int:
        """upsert_project for each; how many were registered."""
        return sum(1 for p in projects if self.upsert_project(p))

    # -- status
    def get_cache_status(self) -> Dict[str, Any]:
        s = self.client.status()
        keys = ("total_projects", "total_artifacts", "stale_projects", "outdated_artifacts", "cache_size_bytes")
        out: Dict[str, Any] = {k: s[k] for k in keys}
        for k in ("oldest_entry", "newest_entry", "last_refresh"):
            out[k] = parse_time(s.get(k))
        return out
