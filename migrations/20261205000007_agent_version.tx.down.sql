ALTER TABLE pcs DROP COLUMN agent_version;
