"""The LLM side of the pipeline: prompts, answer schemas, the client, usage accounting."""
