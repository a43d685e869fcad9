"""The HTTP and WebSocket API: `voxhub.api.app.create_app` builds the server."""
