"""Marketo REST polling: the paced, budgeted client."""

from __future__ import annotations

from notifbot.central_time import CENTRAL, next_central_midnight
from notifbot.marketo.client import MarketoClient

__all__ = ["CENTRAL", "MarketoClient", "next_central_midnight"]
