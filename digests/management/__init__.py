"""Management commands of the digests app."""
