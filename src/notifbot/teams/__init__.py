"""Microsoft Teams transport: sign-in and the Microsoft Graph client (the `teams` extra)."""
