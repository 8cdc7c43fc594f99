"""`{% inferred_categories subscriber %}`: the profile editor's "you seem to read …" block.

A block of its own, so the editor's view and its other blocks need not know of it.
"""

from __future__ import annotations

from typing import Any

from django import template

from subscribers.models import Subscriber
from subscribers.papers_side import papers_side

register = template.Library()


@register.inclusion_tag("subscribers/profile_inferred.html", takes_context=True)
def inferred_categories(context: template.Context, subscriber: Subscriber) -> dict[str, Any]:
    inferred = papers_side().categories_inferred(subscriber)
    codes = sorted(inferred, key=lambda code: (-inferred[code], code))
    return {"codes": codes, "listed": ", ".join(codes), "csrf_token": context.get("csrf_token")}
