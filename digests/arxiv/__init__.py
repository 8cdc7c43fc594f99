"""arXiv: the polite HTTP client, the category taxonomy, affiliations from the HTML pages."""
