DROP TABLE timetable_runs;
DROP TABLE timetable_exceptions;
DROP TABLE timetable_entries;
