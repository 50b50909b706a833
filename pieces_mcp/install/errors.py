"""The one exception of `pieces-mcp install`."""


class InstallError(Exception):
    """A configuration file we refuse to touch, or cannot; the message is for the person and says what to do."""
