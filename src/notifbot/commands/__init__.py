"""Transport-neutral `/marketo` commands: text in, a Reply model out (Slack renders it; Teams will too)."""
