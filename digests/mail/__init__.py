"""The digest e-mail near its floor: signed links in bulk, cards and layouts compiled once.

`render.digest_render` is the reference (template → MJML → HTML for each reader); `compose`
gives the same bytes for a chunk of digests with each paper's card compiled once per language
and each layout once, filling only what differs per reader.
"""
