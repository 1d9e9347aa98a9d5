"""Prometheus counters of the notification pipeline.

They live in a registry of their own: the dispatcher runs in workers that have no application
(and so no per-app ``Metrics``); ``GET /metrics`` appends ``render()`` to the app's own text.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

# Each recorded outcome of a notification, by channel and the status it reached ("retry" for a
# throttled attempt put back to pending).
NOTIFICATION_OUTCOMES = Counter(
    "coordinator_notifications_total",
    "Notification outcomes by channel and status",
    ["channel", "status"],
    registry=REGISTRY,
)
PLANNED = Counter(
    "coordinator_notifications_planned_total",
    "Notifications planned, by reason",
    ["reason"],
    registry=REGISTRY,
)
# Messages WeChat refused for their template, data or page (a configuration error), by kind.
WECHAT_TEMPLATE_REFUSALS = Counter(
    "coordinator_wechat_template_refusals_total",
    "WeChat messages refused for their template, data or page, by kind and errcode",
    ["kind", "errcode"],
    registry=REGISTRY,
)
RECEIPTS = Counter(
    "coordinator_delivery_receipts_total",
    "Delivery receipts received, by provider and result",
    ["provider", "result"],
    registry=REGISTRY,
)

# What asking the provider about an ``unknown`` SMS showed, per row asked: "report" (settled by
# the delivery report found), "waiting" (listed, no report yet), "not_listed" (not listed, too
# young or at a provider whose silence proves nothing), "sent_again" (never accepted: pending
# again or expired), "settled_meanwhile" (never accepted, but a receipt or another worker
# settled it first), "query_failed" (no answer: asked again later).
RESOLUTIONS = Counter(
    "coordinator_unknown_resolutions_total",
    "Unknown SMS asked about at the provider, by provider and what the query showed",
    ["provider", "result"],
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)
