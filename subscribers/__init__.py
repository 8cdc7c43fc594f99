"""Subscribers: who receives a digest, and what they are interested in."""
