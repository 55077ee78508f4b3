"""Domain errors: what went wrong in terms of the domain, translated to HTTP once per door."""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or must look as if it did not)."""


class Forbidden(DomainError):
    """The acting user may not do this to that thing."""


class Conflict(DomainError):
    """The request is valid but clashes with the current state (already following, ...)."""


class Invalid(DomainError):
    """A value the client sent is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Unauthenticated(DomainError):
    """The credentials presented do not identify anyone (unknown, expired or revoked)."""
