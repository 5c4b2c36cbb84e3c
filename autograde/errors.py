"""Exit codes and the one exception for failures a user can act on; `cli.main` turns it into a message."""

from __future__ import annotations

EXIT_OK = 0  # full marks, or the verb did its job
EXIT_POINTS_LOST = 1  # graded, and points were lost
EXIT_INCOMPLETE = 1  # export, collect, grade-all: the gradebook is written, but some rows could not be done now
EXIT_ERROR = 2  # usage error, bad input, grader or machine error, interrupted grade
EXIT_INTERRUPTED = 130  # Ctrl-C outside a grade


class UserError(Exception):
    """Bad input or an unusable environment, said in one line (file, what is wrong, what to do)."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code
