"""The few exceptions a user sees. Each message names the file or field and what to do."""

import unicodedata


class QAError(Exception):
    """Base class: a problem the user can fix; the CLI prints it as one line."""


class DocumentError(QAError):
    """A document could not be read (missing, binary, corrupt, encrypted, no text)."""


class IndexLoadError(QAError):
    """The index is missing, corrupt, stale, or was built with another model."""


class ModelError(QAError):
    """The embedding model could not be loaded offline."""


class InputError(QAError):
    """A question, questions file or option is malformed."""


def one_line(message: str) -> str:
    """Return a message as one line for a terminal or a log: control characters (a newline or an escape
    sequence in a file's name, which would start a line of its own or drive the terminal) written as \\n, \\x1b."""
    return printable(message, keep="")


def printable(text: str, keep: str = "\n\t") -> str:
    """Return text for a terminal: control characters but those in ``keep`` (and lone surrogates) written as
    escapes; a document's text may hold ESC sequences that would drive the terminal printing it."""
    if text.isprintable():
        return text
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Cs")
                   and ch not in keep else ch for ch in text)
