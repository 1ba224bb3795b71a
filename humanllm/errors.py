"""The errors humanllm raises. Each message says what to do next."""

from __future__ import annotations

from typing import TypeVar

E = TypeVar("E", bound=BaseException)


def cause_of_kind(exc: BaseException, kind: type[E]) -> E | None:
    """The first error of `kind` in `exc`'s chain of causes (steps wrap the errors they meet)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__
    return None


class HumanLLMError(Exception):
    """Base class: an error the CLI shows as one line, without a traceback."""


class ConfigError(HumanLLMError):
    """A setting, flag or config file is invalid."""


class BackendError(HumanLLMError):
    """A model backend cannot be built or reached."""


class BackendUnavailable(BackendError):
    """The backend needs a package or hardware that is not here."""


class MissingCredentials(BackendError):
    """An API key is required and was not given."""


class EndpointError(BackendError):
    """The model endpoint failed after all retries."""

    def __init__(self, message: str, *, status: int | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.cause = cause or (str(status) if status is not None else "endpoint error")
        """A short label for grouping failures: "401", "404", "timeout", "connection", "rate limited", ..."""


class PermanentEndpointError(EndpointError):
    """The endpoint refused the request in a way retrying cannot fix (401, 403, 404, 400): stop the run."""


class StructuredOutputError(HumanLLMError):
    """The model kept returning output that does not fit the schema."""


class UnknownPatternError(HumanLLMError, KeyError):
    """A pattern name, id or alias that the library does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PatternDataError(HumanLLMError):
    """Pattern cards or relation files are malformed."""


class InvalidBundleError(HumanLLMError):
    """A set of patterns cannot be combined as asked."""


class DataError(HumanLLMError):
    """A data file (episodes, imports, exports) is malformed."""


class StoreLockedError(HumanLLMError):
    """Another process is writing the store (one writer per store): wait for it, or pass --wait."""


class HubError(HumanLLMError):
    """Publishing to the Hugging Face Hub failed: no token or login, offline mode, or the upload itself."""
