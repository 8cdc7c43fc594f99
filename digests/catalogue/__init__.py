"""The staff-curated topic catalogue: its default content and its JSON import and export."""
