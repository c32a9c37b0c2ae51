"""Sources turn raw input (webhook bodies, Adobe I/O events, Marketo polls) into Notifications."""
