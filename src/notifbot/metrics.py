"""Prometheus metrics, one registry per app so tests and several apps in one process stay apart."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class Metrics:
    """Counters, gauges and the delivery latency histogram of one running bot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter("notifbot_events_received", "Notifications accepted", ["source"], registry=r)
        self.duplicates = Counter(
            "notifbot_events_duplicate", "Notifications answered as duplicates", ["source"], registry=r
        )
        self.muted = Counter(
            "notifbot_events_muted", "Notifications stored but not posted (muted)", registry=r
        )
        self.rejected = Counter(
            "notifbot_requests_rejected", "Ingest requests refused, by HTTP status", ["status"], registry=r
        )
        self.delivered = Counter(
            "notifbot_deliveries", "Messages delivered", ["destination_type"], registry=r
        )
        self.failed = Counter(
            "notifbot_delivery_failures", "Failed delivery attempts", ["destination_type"], registry=r
        )
        self.retries = Counter(
            "notifbot_delivery_retries",
            "Deliveries retried (after an error or a 429)",
            ["destination_type"],
            registry=r,
        )
        self.dead = Counter(
            "notifbot_deliveries_dead", "Deliveries given up", ["destination_type"], registry=r
        )
        self.depth = Gauge(
            "notifbot_outbox_depth", "Outbox rows by status", ["destination_type", "status"], registry=r
        )
        self.marketo_calls = Gauge(
            "notifbot_marketo_calls_today",
            "notifbot's own Marketo REST calls today (US Central), per feature",
            ["instance", "feature"],
            registry=r,
        )
        self.marketo_budget = Gauge(
            "notifbot_marketo_budget_calls", "notifbot's daily Marketo call budget", ["instance"], registry=r
        )
        self.pruned = Counter(
            "notifbot_rows_pruned", "Rows deleted by retention (storage.retention)", ["table"], registry=r
        )
        self.console_actions = Counter(
            "notifbot_console_actions",
            "Actions taken in the operations console (/ui)",
            ["action"],
            registry=r,
        )
        self.latency = Histogram(
            "notifbot_delivery_latency_seconds",
            "From receipt to delivery",
            ["destination_type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def set_marketo_calls(self, instance: str, budget: int, calls: dict[str, int]) -> None:
        """notifbot's own Marketo REST calls today (US Central) per feature, and its daily budget."""
        self.marketo_budget.labels(instance).set(budget)
        for feature, n in calls.items():
            self.marketo_calls.labels(instance, feature).set(n)

    def set_depth(self, depth: dict[tuple[str, str], int]) -> None:
        """Replaces the outbox depth gauge with fresh counts."""
        self.depth.clear()
        for (dest_type, status), count in depth.items():
            self.depth.labels(dest_type, status).set(count)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return bytes(generate_latest(self.registry))
