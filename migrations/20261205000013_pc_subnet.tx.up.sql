-- The network a PC reaches the server from, as its agent's full heartbeat last said (our
-- addition, models/state.go): the interface's MAC and its address with the prefix, as
-- 192.168.10.23/24. Wake-on-LAN asks another PC of the same subnet to wake it; '' unknown.
ALTER TABLE pcs ADD COLUMN wake_mac TEXT NOT NULL DEFAULT '';
ALTER TABLE pcs ADD COLUMN subnet TEXT NOT NULL DEFAULT '';
