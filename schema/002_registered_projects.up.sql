-- Project paths registered at run time (POST /api/v1/cache/projects): SkillMeat knows projects
-- outside the search roots. Kept apart from `projects` so a registration outlives the project's
-- row (a folder that loses its deployment file and gets it back is found again).
CREATE TABLE registered_projects (
    path TEXT PRIMARY KEY,
    registered_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
