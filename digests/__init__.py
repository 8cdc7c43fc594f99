"""Digests: papers, enrichment, topics, and the daily pipeline that turns them into e-mails."""
