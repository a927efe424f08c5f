"""The mailer's two kinds of fatal error, which the command line turns into exit codes."""


class MailError(Exception):
    """The mailing cannot go on (exit 1): broken outputs, an unreachable server."""


class MailUsageError(MailError):
    """What was asked for makes no sense as given (exit 2): a missing month, a bad template."""
