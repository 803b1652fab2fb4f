DROP TABLE room_actions;
