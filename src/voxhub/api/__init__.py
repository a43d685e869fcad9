"""The HTTP and WebSocket API; `voxhub.server.create_app` adds the protocols and builds the server."""
