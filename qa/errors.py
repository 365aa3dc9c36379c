"""The few exceptions a user sees. Each message names the file or field and what to do."""


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
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in message)
