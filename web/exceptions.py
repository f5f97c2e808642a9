"""Exceptions of the serving layer that routes raise and web/errors.py turns into responses."""


class NotReady(Exception):
    """The model or the index is still loading, or failed to load."""


class Overloaded(Exception):
    """Too many questions are waiting already (→ 503 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy with other questions; try again in a few seconds")
        self.retry_after = retry_after


class ClientGone(Exception):
    """The client disconnected before its question was started: nothing was computed."""
