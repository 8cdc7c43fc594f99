"""Reader language codes → the language Django translates into.

Subscribers store short BCP 47 codes ("zh", "zh-cn", "zh-Hans", "en"). `translation.override`
activates a code as given, and Django looks its catalogue up by that exact locale: "zh" and
"zh-cn" find no catalogue (there is only zh_Hans) and silently fall back to English. Pass the
stored code through `language_for_translation` before `translation.override`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_supported_language_variant

__all__ = ["language_for_translation"]


def language_for_translation(code: str) -> str:
    """The LANGUAGES code serving a reader's language, e.g. "zh" / "zh-cn" → "zh-hans".

    Django's own matching (exact code, then LANG_INFO fallbacks, then the generic prefix, then
    any supported variant of it) picks the catalogue; a language without one falls back to
    LANGUAGE_CODE, so the e-mail never mixes languages.
    """
    normalised = (code or "").strip().replace("_", "-").lower()
    if not normalised:
        return settings.LANGUAGE_CODE
    try:
        return get_supported_language_variant(normalised)
    except LookupError:
        return settings.LANGUAGE_CODE
