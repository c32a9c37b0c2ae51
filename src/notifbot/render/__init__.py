"""Renderers: turn a Notification (described by `notifbot.kinds`) into Block Kit, Adaptive Cards or terminal text."""
