"""Marketo intake: the pollers of the REST API (campaigns, activities, quota) and their wiring."""
