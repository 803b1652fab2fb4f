DROP TABLE agent_builds;
