"""The API fixtures (`serve`, `start`) for the reliability stories."""

from tests.api.conftest import serve, start  # noqa: F401
