"""Several replicas of one model server: the endpoints list, and which replica serves an episode.

Every call of one episode goes to one replica, so the server keeps the episode's growing prefix in
its cache. The replica is chosen by weighted rendezvous (highest-random-weight) hashing of the
episode id over the healthy replicas: the same id always lands on the same replica, weights skew
the shares, and taking a replica out moves only the episodes it had (each to its next-best
replica) while every other episode stays where it was.

An endpoints file is YAML, a list of `{url, weight, concurrency}`; keys never go in it (the
`OPENAI_API_KEY` environment variable serves every replica). A `--base-url` may carry one as it
always could (it is redacted wherever it is shown or saved).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from humanllm.core import kind_of, read_yaml_file
from humanllm.errors import ConfigError
from humanllm.redaction import redact_url

_KEY_WORDS = ("key", "token", "secret", "password", "auth")


class Endpoint(BaseModel):
    """One replica: an OpenAI-compatible base URL serving the same model as the others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Base URL, e.g. http://gpu-1:8000/v1 (no credentials in it).")
    weight: float = Field(default=1.0, gt=0, description="Share of the episodes, relative to the others.")
    concurrency: int | None = Field(
        default=None, ge=1, description="Most episodes in flight on this replica at once (None: no cap of its own)."
    )

    @field_validator("url")
    @classmethod
    def _plain_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{redact_url(url)!r} is not an http(s) URL such as http://host:8000/v1")
        return url  # as given: it enters episode specs (ids) as it always did

    @property
    def name(self) -> str:
        """The URL as shown and saved: redacted."""
        return redact_url(self.url)

    @property
    def has_credential(self) -> bool:
        return "@" in urlsplit(self.url).netloc or redact_url(self.url) != self.url


def read_endpoints(path: Path) -> list[Endpoint]:
    """The endpoints listed in a YAML file; `ConfigError` (one line) when it is not a valid list."""
    raw = read_yaml_file(path, what="endpoints file")
    if isinstance(raw, dict) and set(raw) == {"endpoints"}:
        raw = raw["endpoints"]
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"endpoints file {path} holds {kind_of(raw)}: write a list of entries like '- url: http://host:8000/v1'"
        )
    for index, item in enumerate(raw):
        if isinstance(item, dict) and any(word in str(k).lower() for k in item for word in _KEY_WORDS):
            raise ConfigError(
                f"endpoints file {path}: entry {index} has a key field: keys stay in the OPENAI_API_KEY "
                "environment variable, never in a file"
            )
    try:
        endpoints = TypeAdapter(list[Endpoint]).validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"endpoints file {path}: entry {where}: {message}") from exc
    for index, endpoint in enumerate(endpoints):
        if endpoint.has_credential:
            raise ConfigError(
                f"endpoints file {path}: entry {index}: the URL {endpoint.name} carries a credential: keys stay in "
                "the OPENAI_API_KEY environment variable, never in a file"
            )
    return check_distinct(endpoints)


def endpoints_from(urls: Sequence[str] | None, path: Path | None) -> list[Endpoint]:
    """The replicas of a run: `--base-url` (repeatable, equal weights) or `--endpoints FILE`; [] for neither."""
    if urls and path is not None:
        raise ConfigError("give the replicas with --base-url (repeatable) or --endpoints FILE, not both")
    if path is not None:
        return read_endpoints(path)
    try:
        return check_distinct([Endpoint(url=url) for url in urls or []])
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"--base-url: {message}") from exc


def check_distinct(endpoints: list[Endpoint]) -> list[Endpoint]:
    seen: set[str] = set()
    for endpoint in endpoints:
        if endpoint.url in seen:
            raise ConfigError(
                f"{endpoint.name} is listed twice: list each replica once (use weight for a bigger share)"
            )
        seen.add(endpoint.url)
    return endpoints


def _unit(key: str, replica: str) -> float:
    """A uniform number in (0, 1) drawn from the pair, the same on every machine and run."""
    digest = hashlib.blake2b(f"{key}\0{replica}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def rendezvous(key: str, endpoints: Sequence[Endpoint]) -> int:
    """The index of the endpoint `key` goes to: weighted highest-random-weight hashing.

    Each endpoint scores `-weight / ln(u)` with `u` uniform from (key, url); the highest wins. An
    endpoint then wins with probability weight / total weight, and removing one leaves every other
    endpoint's keys in place.
    """
    if not endpoints:
        raise ValueError("no endpoint to route to")
    scores = [-e.weight / math.log(_unit(key, e.url)) for e in endpoints]
    return max(range(len(endpoints)), key=scores.__getitem__)
