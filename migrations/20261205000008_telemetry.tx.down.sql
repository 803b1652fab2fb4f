DROP TABLE pc_hours;
DROP TABLE pc_minutes;
