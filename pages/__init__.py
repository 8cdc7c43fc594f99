"""The public web pages: home, paper, view in browser, topic and author pages, a reader's feed.

No models. Named `pages`, not `site`, because `site` is the Python module every interpreter
imports at start-up: a package of that name would be shadowed by it.
"""
