-- SkillMeat's initial cache schema (skillmeat/cache/schema.py), so its Python code can read
-- this file, plus the columns projcache needs for drift. artifacts.type is open text: SkillMeat
-- keeps adding artifact types (composite, workflow, ...) and the cache must keep them, not fail.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_fetched TIMESTAMP,
    status TEXT DEFAULT 'active' CHECK(status IN ('active', 'stale', 'error')),
    error_message TEXT
);
CREATE INDEX idx_projects_status ON projects(status);
CREATE INDEX idx_projects_last_fetched ON projects(last_fetched);

CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK(length(type) > 0),
    source TEXT,
    deployed_version TEXT,
    upstream_version TEXT,
    is_outdated BOOLEAN DEFAULT 0,
    local_modified BOOLEAN DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    profile_root TEXT NOT NULL DEFAULT '',
    from_collection TEXT,
    artifact_path TEXT,
    deployed_hash TEXT,
    local_hash TEXT,
    collection_hash TEXT,
    drift TEXT NOT NULL DEFAULT 'synced'
        CHECK(drift IN ('synced', 'outdated', 'modified', 'conflict', 'removed', 'missing')),
    deployed_at TEXT,
    FOREIGN KEY (project_id) REFERENCES projects(id) ON DELETE CASCADE
);
CREATE INDEX idx_artifacts_project_id ON artifacts(project_id);
CREATE INDEX idx_artifacts_type ON artifacts(type);
CREATE INDEX idx_artifacts_is_outdated ON artifacts(is_outdated);
CREATE INDEX idx_artifacts_updated_at ON artifacts(updated_at);
CREATE INDEX idx_artifacts_name ON artifacts(name);
CREATE INDEX idx_artifacts_project_type ON artifacts(project_id, type);
CREATE INDEX idx_artifacts_outdated_type ON artifacts(is_outdated, type);

CREATE TABLE artifact_metadata (
    artifact_id TEXT PRIMARY KEY,
    metadata TEXT,
    description TEXT,
    tags TEXT,
    aliases TEXT,
    FOREIGN KEY (artifact_id) REFERENCES artifacts(id) ON DELETE CASCADE
);
CREATE INDEX idx_metadata_tags ON artifact_metadata(tags);

CREATE TABLE marketplace (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK(length(type) > 0),
    url TEXT NOT NULL,
    description TEXT,
    cached_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    data TEXT
);
CREATE INDEX idx_marketplace_type ON marketplace(type);
CREATE INDEX idx_marketplace_name ON marketplace(name);

CREATE TABLE cache_metadata (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Incremental hashing: the content hash of a file or folder is reused while the stat listing
-- of everything below it (size, mtime_ns, inode of each file) digests to the same value.
CREATE TABLE file_fingerprints (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    listing_digest TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TRIGGER projects_updated_at AFTER UPDATE ON projects
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE projects SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER artifacts_updated_at AFTER UPDATE ON artifacts
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE artifacts SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
