DROP TABLE agent_build_chunks;
