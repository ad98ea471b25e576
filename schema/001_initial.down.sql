DROP TRIGGER IF EXISTS artifacts_updated_at;
DROP TRIGGER IF EXISTS projects_updated_at;
DROP TABLE IF EXISTS file_fingerprints;
DROP TABLE IF EXISTS cache_metadata;
DROP TABLE IF EXISTS marketplace;
DROP TABLE IF EXISTS artifact_metadata;
DROP TABLE IF EXISTS artifacts;
DROP TABLE IF EXISTS projects;
