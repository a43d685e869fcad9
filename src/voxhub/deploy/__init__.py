"""Running voxhub as self-hosters do: a systemd service and a TLS certificate (the CLI's `service`, `cert`)."""
