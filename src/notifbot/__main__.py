"""Allows `python -m notifbot`."""

from __future__ import annotations

from notifbot.cli import main

raise SystemExit(main())
