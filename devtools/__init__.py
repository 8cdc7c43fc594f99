"""Stand-ins for the outside world, for tests, benches and the demo only.

Stub servers (ESP, OpenAI-compatible LLM), the arXiv replay and fixture writer, the recorded demo
day and its command. Not part of the product: `pyproject.toml` does not install this package and
the image does not copy it; settings add it to INSTALLED_APPS only when it is importable.
"""
