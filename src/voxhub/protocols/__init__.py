"""Adapters that let existing clients talk to voxhub: OpenAI-compatible HTTP, Wyoming, seed routes."""
