"""The Slack transport: classified, scrubbing Web API calls and request signature checks."""
