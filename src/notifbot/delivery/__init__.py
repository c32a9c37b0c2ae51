"""Delivery: the outbox worker and the senders that post notifications to Slack, Teams and the console."""
