-- The agent's version as its User-Agent says (wcms-agent/1.2.3), "compatible" for another client
-- (the published Python ones), '' before a PC's first registration or full heartbeat since.
ALTER TABLE pcs ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
