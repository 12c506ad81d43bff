"""The one base of user-facing errors: a ReconbenchError says what is wrong and the next step to take;
`reconbench` turns it into one line and exit code 2. Any other exception is a bug in reconbench and is
shown with its traceback. Imports nothing, so every module can use it."""

from __future__ import annotations


class ReconbenchError(Exception):
    """A problem with the user's input, files, machine or environment (not a bug)."""


class UnknownName(ReconbenchError, KeyError):
    """An unknown protocol, method, frame or object name. Still a KeyError, for callers that look names up."""

    def __str__(self) -> str:  # KeyError's str() quotes its argument; the message reads better plain
        return str(self.args[0]) if self.args else ""


class ProtocolFileError(ReconbenchError, KeyError):
    """A protocol file that cannot be read or lacks a field (a KeyError for callers written before this class)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
