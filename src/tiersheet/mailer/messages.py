"""Addresses and MIME messages, built only with the standard library's email package.

An address list as partners type it ("a@x.com; Sales <b@x.com>") is split on commas and
semicolons outside quotes and angle brackets; each part must be one mailbox that
`email.headerregistry` parses without a defect (obsolete but common forms aside), with a domain that could exist on the Internet."""

from __future__ import annotations

import email.policy
import functools
import mimetypes
import re
from dataclasses import dataclass
from email.errors import HeaderParseError, ObsoleteHeaderDefect
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any



class _Headers(HeaderRegistry):
    """The standard header registry, making each header class once rather than per header
    (a third of the time it takes to build a message)."""

    @functools.lru_cache(maxsize=None)
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)


class _Policy(email.policy.EmailPolicy):
    """The standard policy, except that a header's value never starts on the line after its name.

    CPython's folder moves a value that fits on a line by itself, but not after its name, whole to
    the next line ("Subject:\r\n Your partner statement ...", for a subject of 70 to 77 characters);
    a reader that keeps the space of that fold (Python's own parser did until gh-124452)
    reads the subject back with a leading space. Such a header is written on one line instead: at
    most 78 characters plus its name, far within the 998 of RFC 5322. Longer values fold as
    usual, between words, and read back exactly."""

    def fold(self, name: str, value: Any) -> str:
        folded = super().fold(name, value)
        if folded.startswith(f"{name}:{self.linesep}"):
            return email.policy.EmailPolicy.fold(self.clone(max_line_length=998), name, value)
        return folded

    def fold_binary(self, name: str, value: Any) -> bytes:
        folded = super().fold_binary(name, value)
        if folded.startswith(f"{name}:{self.linesep}".encode()):
            return email.policy.EmailPolicy.fold_binary(self.clone(max_line_length=998), name, value)
        return folded


# CRLF line ends and 7-bit transfer encodings: the bytes sent are the bytes of the .eml file,
# and any server accepts them (email.policy.SMTP's settings, on the policy above).
POLICY = _Policy(linesep="\r\n", cte_type="7bit", header_factory=_Headers())
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPES = {".xlsx": XLSX, ".pdf": "application/pdf"}
MESSAGE_ID_TAG = "tiersheet"  # in each Message-ID, so that our own .eml files can be told apart
# A Message-ID header line as make_msgid writes it with that tag: <time.pid.random.TAG@domain>
OUR_MESSAGE_ID = re.compile(rb"Message-ID: <\d+\.\d+\.\d+\." + MESSAGE_ID_TAG.encode() + rb"@[^>]*>\s*$",
                            re.IGNORECASE)
_headers = _Headers()
_hostname = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+")


def split_addresses(text: str) -> list[str]:
    """Split at commas and semicolons that are outside quotes and angle brackets."""
    parts, current, quoted, angled, escaped = [], [], False, False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char in "<>" and not quoted:
            angled = char == "<"
        elif char in ",;" and not quoted and not angled:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_address(text: str) -> Address | None:
    """One mailbox, or None when `text` is not exactly one valid address. A non-ASCII domain is
    kept in its IDNA (xn--) form so that every envelope is plain ASCII."""
    try:
        header = _headers("To", text)
        (address,) = header.addresses
        domain = address.domain.encode("idna").decode("ascii")
    except (HeaderParseError, IndexError, ValueError, UnicodeError):
        return None
    defects = [d for d in header.defects if not isinstance(d, ObsoleteHeaderDefect)]  # "Jonas K." is fine
    if defects or not address.username or not _hostname.fullmatch(domain):
        return None
    return Address(address.display_name, address.username, domain)


def parse_addresses(text: str) -> tuple[list[Address], list[str]]:
    """The valid addresses in `text` (duplicates dropped) and the parts that are not valid."""
    valid: dict[str, Address] = {}
    invalid = []
    for part in split_addresses(text):
        address = parse_address(part)
        if address is None:
            invalid.append(part)
        else:
            valid.setdefault(address.addr_spec.lower(), address)
    return list(valid.values()), invalid


@dataclass(frozen=True)
class Attachment:
    """A file attached as read once: the same bytes are sent and checksummed."""
    name: str
    data: bytes

    @classmethod
    def read(cls, path: Path) -> "Attachment":
        return cls(path.name, path.read_bytes())

    @property
    def mime_type(self) -> str:
        suffix = Path(self.name).suffix.lower()
        return TYPES.get(suffix) or mimetypes.guess_type(self.name)[0] or "application/octet-stream"


def build_message(sender: Address | None, recipients: list[Address], subject: str, text: str,
                  html: str | None, attachments: list[Attachment]) -> EmailMessage:
    """A multipart message: the text (with its HTML alternative) and the attachments."""
    message = EmailMessage(policy=POLICY)
    if sender is not None:
        message["From"] = sender
    message["To"] = recipients
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(MESSAGE_ID_TAG, domain=sender.domain if sender else "localhost")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.mime_type.split("/", 1)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype,
                               filename=attachment.name)
    return message


def eml_name(text: str) -> str:
    """A safe .eml file name for a message key (SPEC I8: nothing escapes the outbox). Letters
    of any script and spaces are kept, so two statements' distinct names ("ü1", "ä1"; "a b",
    "a_b") never make one .eml that the other overwrites."""
    return re.sub(r"[^\w@.+\- ]", "_", text).strip(" ").lstrip(".") + ".eml"
