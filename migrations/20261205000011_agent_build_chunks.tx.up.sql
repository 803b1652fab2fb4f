-- The content of each agent build, in pieces of 1 MiB (models/builds.go), so that every server
-- instance on one database can serve every build: an instance without the build's file fetches
-- it from here once (agentbuilds.Builds.Open). Builds registered before this migration get
-- theirs at the next start of an instance that has the file (agentbuilds.Builds.Share).
CREATE TABLE agent_build_chunks (
    build_id BIGINT NOT NULL REFERENCES agent_builds(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data {{.Bytes}} NOT NULL,
    PRIMARY KEY (build_id, seq)
);
