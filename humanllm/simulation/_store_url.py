"""Where a `generate --ray` store lives: a local folder (a plain path or `file://`) or an fsspec URL.

A local folder (on a filesystem every Ray node mounts, for a real cluster) is written in place,
each task appending to its own shard under the shard's lock (`EpisodeStore.open_shard`). An object
store (`s3://`, `gs://`, `az://`, `memory://` in tests: any fsspec protocol but `file`) has no
locks, no appends and no fsync: each task writes its shard into a local staging folder, first
downloading the shard's earlier files so a resumed run skips what they hold, and uploads the
shard's files whole when it ends (`fsspec.open(url, "wb")`: an object appears only once complete,
so a reader never sees a torn line). The driver writes `manifest.json` there; the dataset card
(`README.md`) is not written to an object store (`humanllm data card` on a downloaded copy does it).

fsspec is imported inside the functions (it comes with `datasets`; `s3fs`, `gcsfs`, `adlfs` are the
user's to install for their store).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from humanllm.errors import DataError

MANIFEST_NAME = "manifest.json"
SHARD_PREFIXES = ("episodes", "attempts")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/(/?)(.*)$")


@dataclass(frozen=True)
class StoreLocation:
    """A store's address: `local` is its folder when it has one, else `url` is an fsspec URL."""

    url: str
    local: Path | None

    def file_url(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/{name}"


def store_location(out: str | PathLike[str]) -> StoreLocation:
    """The location of `--out`: `s3://b/k` (or `s3:/b/k`, what `pathlib.Path` makes of it) is a URL; a plain
    path or `file://PATH` is a local folder."""
    text = str(out)
    match = _SCHEME.match(text)
    if match is None or len(match.group(1)) == 1:  # no scheme, or a Windows drive letter
        return StoreLocation(url=text, local=Path(text))
    scheme, _slash, rest = match.groups()
    if scheme.lower() == "file":
        local = Path("/" + rest.lstrip("/"))
        return StoreLocation(url=str(local), local=local)
    return StoreLocation(url=f"{scheme}://{rest}", local=None)


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with datasets
        raise DataError("writing to a URL needs fsspec: pip install 'humanllm[ray]'") from exc
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise DataError(f"{url}: no filesystem for this URL ({exc}); install its fsspec package (e.g. s3fs)") from exc
    return fs, path


def shard_file(prefix: str, shard: str) -> str:
    return f"{prefix}-{shard}.jsonl"


def download_shard(location: StoreLocation, shard: str, folder: Path) -> int:
    """Copy the shard's files that exist at `location` into `folder`; returns how many."""
    fs, root = _fs(location.url)
    copied = 0
    for prefix in SHARD_PREFIXES:
        remote = f"{root.rstrip('/')}/{shard_file(prefix, shard)}"
        if fs.exists(remote):
            (folder / shard_file(prefix, shard)).write_bytes(fs.cat_file(remote))
            copied += 1
    return copied


def upload_shard(folder: Path, shard: str, location: StoreLocation) -> int:
    """Write the shard's local files to `location`, each as one whole object; returns how many."""
    import fsspec

    uploaded = 0
    for prefix in SHARD_PREFIXES:
        local = folder / shard_file(prefix, shard)
        if not local.is_file():
            continue
        with fsspec.open(location.file_url(shard_file(prefix, shard)), "wb") as handle:
            handle.write(local.read_bytes())
        uploaded += 1
    return uploaded


def remote_done_ids(location: StoreLocation) -> set[str]:
    """The episode ids of every `episodes-*.jsonl` at `location` (an unparsable last line is skipped)."""
    fs, root = _fs(location.url)
    ids: set[str] = set()
    for path in sorted(fs.glob(f"{root.rstrip('/')}/episodes-*.jsonl")):
        lines = fs.cat_file(path).splitlines()
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                ids.add(json.loads(raw)["id"])
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines):
                    continue  # a torn last line
                raise DataError(f"{path}:{number}: not an episode record ({exc}); move the file aside") from exc
    return ids


def update_remote_manifest(location: StoreLocation, entries: dict[str, Any]) -> None:
    """Add `entries` to the manifest at `location` (one whole object, replaced)."""
    fs, root = _fs(location.url)
    path = f"{root.rstrip('/')}/{MANIFEST_NAME}"
    current: dict[str, Any] = {}
    if fs.exists(path):
        try:
            loaded = json.loads(fs.cat_file(path))
        except ValueError as exc:
            raise DataError(f"{location.file_url(MANIFEST_NAME)} is not valid JSON: {exc}") from exc
        current = loaded if isinstance(loaded, dict) else {}
    fs.pipe_file(path, json.dumps({**current, **entries}, indent=2, default=str).encode())
