"""`{{ text|readable }}`: paper text as a reader reads it, LaTeX formatting commands dropped.

"\\textbf{DiPOD} improves" reads "DiPOD improves" wherever a title, an abstract or a summary is
shown; maths ($\\alpha$) stays. The result is still plain text: the template escapes it.
"""

from __future__ import annotations

from django import template

from digests.text import latex_formatting_removed

register = template.Library()


@register.filter
def readable(text: str | None) -> str:
    return latex_formatting_removed(text or "")
