"""Transport-neutral `/marketo` commands: one table (table.py), text in, a Reply out (chatops/ renders it)."""
