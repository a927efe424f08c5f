"""The mailer's two kinds of fatal error, which the command line turns into exit codes."""


from ..errors import TiersheetError


class MailError(TiersheetError):
    """The mailing cannot go on (exit 1): broken outputs, an unreachable server."""


class MailUsageError(MailError):
    """What was asked for makes no sense as given (exit 2): a missing month, a bad template."""
    exit_code = 2
