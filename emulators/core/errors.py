"""The two error families: our own failure and the client's contract breach."""

from __future__ import annotations


class EmulatorError(Exception):
    """Something went wrong inside medstand itself (a bug or a broken environment)."""


class ConfigError(EmulatorError):
    """Configuration could not be loaded or is invalid; raised at start-up."""


class ContractViolation(Exception):
    """The client broke the counterpart's contract; carries the requirement ID it breaks."""

    def __init__(self, requirement: str, message: str) -> None:
        super().__init__(f"{requirement}: {message}")
        self.requirement = requirement
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"requirement": self.requirement, "message": self.message}


class UsageError(EmulatorError):
    """A user's mistake on the command line (a peer not running, a port taken): one line, exit code 2."""
