"""SQLite storage behind a narrow interface: plain functions over a connection, plus an async runner."""
