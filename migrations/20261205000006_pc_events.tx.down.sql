DROP TABLE pc_events;
