"""Errors that carry a message meant for the person who acted."""


class UserError(Exception):
    """Bad input or a state that forbids the action; the message is kind and plain."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(UserError):
    """The person's role does not allow the action; nothing was changed."""
