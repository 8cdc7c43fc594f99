"""The ModelAdmins, one module per area; importing this package registers them all."""

from staff.admin import deliveries, papers, subscribers, topics, tracking

__all__ = ["deliveries", "papers", "subscribers", "topics", "tracking"]
