"""The chat sandbox: a local Slack/Teams stand-in on loopback that the real bot talks to over real HTTP."""
