"""notifbot: Marketo Engage system notifications, routed to the chat channels that own them."""

from __future__ import annotations

__version__ = "0.1.0"
