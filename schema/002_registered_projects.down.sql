DROP TABLE IF EXISTS registered_projects;
