"""Errors that reach the user as one line."""


class GugugoError(Exception):
    """A problem the user can act on; the CLI prints it as one line without a traceback."""


class InputError(GugugoError):
    """A bad input file: missing, binary, undecodable, unparseable."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelError(GugugoError):
    """The model cannot be loaded."""


class UsageError(GugugoError):
    """The command line names something that is not there (exit status 2)."""


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (or its type's name): enough for a one-line error."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
