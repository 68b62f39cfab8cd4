"""The Bot API's error answers, as raised by the sandbox's methods."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def bad(description: str) -> ApiError:
    """A 400 answer: ``Bad Request: <description>``."""
    return ApiError(400, f"Bad Request: {description}")
