"""Management commands of the subscribers app."""
