"""The project's exceptions: one small hierarchy, causes chained with `raise ... from`."""


class BcpError(Exception):
    """Base of every error BCP Board raises on purpose."""


class ConfigurationError(BcpError):
    """A setting is missing or has a value the bot cannot use; the message says how to fix it."""


class RegistryError(BcpError):
    """A site registry file cannot be read at all (single bad rows are reported, not raised)."""


class JournalError(BcpError):
    """The journal cannot be opened or written."""


class GraphError(BcpError):
    """A Microsoft Graph call failed in a way that a retry will not fix."""


class PackagingError(BcpError):
    """The Teams app package cannot be built; the message names the problem."""
