"""Domain errors whose messages are safe and useful to show a shopper or a member of staff."""


class RevoqueError(Exception):
    """Base of every error the store raises on purpose; ``str(error)`` is the user-facing text."""


class ConfigError(RevoqueError):
    """A setting is missing or wrong; the message names the environment variable."""


class NotFound(RevoqueError):
    """The thing asked for does not exist (or is not visible to this user)."""


class ValidationError(RevoqueError):
    """Input was rejected; the message says which field and why."""


class PermissionDenied(RevoqueError):
    """The signed-in user's role does not allow this; checked on the server for every staff action."""
