"""Microsoft Teams through Microsoft Graph: sign-in, the Graph client, and commands from channels (the `teams` extra)."""
