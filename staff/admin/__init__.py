"""The ModelAdmins, one module per area; importing this package registers them all."""

from staff.admin import (
    authors,
    deliveries,
    held_signups,
    papers,
    subscribers,
    topics,
    tracking,
    versions,
)

__all__ = [
    "authors",
    "deliveries",
    "held_signups",
    "papers",
    "subscribers",
    "topics",
    "tracking",
    "versions",
]
