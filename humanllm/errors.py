"""The errors humanllm raises. Each message says what to do next."""

from __future__ import annotations


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
