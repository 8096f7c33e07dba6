"""Errors that reach the user as one line."""


class GugugoError(Exception):
    """A problem the user can act on; the CLI prints it as one line without a traceback."""


class InputError(GugugoError):
    """A bad input file: missing, binary, undecodable, unparseable."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class FieldError(GugugoError):
    """A dataset field that cannot be translated as named: a column the file does not have, a malformed path,
    or a path --keep-source cannot put a translation beside (the command line exits 2 on it)."""


class ModelError(GugugoError):
    """The model cannot be loaded."""


class UsageError(GugugoError):
    """The command line names something that is not there (exit status 2)."""


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (or its type's name): enough for a one-line error."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
