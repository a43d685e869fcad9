"""Tools the assistant can call: one registry, several kinds (built-in, Home Assistant, REST, template, MCP)."""
