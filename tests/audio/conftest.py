"""The API fixtures (`client`, `serve`), for the stories that send audio files to the server."""

from tests.api.conftest import client, serve, server  # noqa: F401
