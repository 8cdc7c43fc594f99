"""The back office: the staff admin site, dashboards, charts, curation and actions. No models."""
