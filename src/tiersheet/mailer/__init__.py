"""Email each partner its statement and the channel team its workbook (SPEC O6).

The mailer only reads what `tiersheet run` wrote (the month's channel workbook, the statements
folder and its index.csv) and never recomputes a figure: a message says what the files say.

    sources.py    what `run` wrote for a month: the statements index and the Partners sheet
    template.py   the editable wording, with the partner's figures as $placeholders
    messages.py   addresses and MIME messages (the standard library's email package)
    smtp.py       one SMTP connection for many messages, with retries and reconnects
    sendlog.py    what was delivered, so that a re-run sends only what is missing
    outbox.py     one month's mailing: decide, build, send or write .eml, and tally
"""

from .outbox import MailError, Report, send_month
from .smtp import SmtpSettings

__all__ = ["MailError", "Report", "SmtpSettings", "send_month"]
