"""The operations console at /ui (docs/design/first-hour.md §5): sign-in, pages over the store, audited actions."""
