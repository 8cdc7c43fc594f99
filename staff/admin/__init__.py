"""The ModelAdmins, one module per area; importing this package registers them all."""

from staff.admin import deliveries, held_signups, papers, subscribers, topics, tracking, versions

__all__ = ["deliveries", "held_signups", "papers", "subscribers", "topics", "tracking", "versions"]
