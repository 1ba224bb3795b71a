"""Publishing a store, split folder or Parquet export to the Hugging Face Hub as a dataset repo.

`push_folder` writes the folder's dataset card first (a README humanllm did not write is kept as
it is), then uploads exactly the files the card names (the data files of its configs) plus the
card and the folder's metadata (`manifest.json`, `splits.json`): never locks, torn tails, caches or
anything else in the folder. The token comes from the variable `--token-env` names, else from
`huggingface_hub`'s own lookup (`HF_TOKEN`, then a saved `hf auth login`); it is passed to the
client only, never printed, logged or written. Every failure is one `HubError` line.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path

from pydantic import BaseModel, Field

from humanllm.errors import ConfigError, HubError
from humanllm.redaction import redact
from humanllm.simulation._card import CARD_FILE, read_front_matter, write_card
from humanllm.simulation._card_data import card_data
from humanllm.simulation._split_plan import PLAN_FILE
from humanllm.simulation._store import MANIFEST

logger = logging.getLogger(__name__)

_TRUE = {"1", "ON", "YES", "TRUE"}


class PushReport(BaseModel):
    """What `push_folder` published."""

    repo_id: str = Field(description="The dataset repo, `owner/name`.")
    url: str = Field(description="The repo's page on the Hub.")
    files: list[str] = Field(description="Paths uploaded, relative to the folder.")
    private: bool = Field(description="Whether a repo it created is private (an existing repo keeps its setting).")
    commit: str | None = Field(default=None, description="The commit the upload made, if the Hub said.")


def upload_files(folder: Path) -> list[str]:
    """The paths (relative, `/`-separated) that a push of `folder` uploads: card, metadata and the configs' data."""
    data = card_data(folder)
    chosen = {CARD_FILE} if (folder / CARD_FILE).is_file() else set()
    for config in data.configs:
        for split in config.splits:
            for path in folder.glob(split.path):
                chosen.add(path.relative_to(folder).as_posix())
                plan = path.parent / PLAN_FILE
                if plan.is_file():
                    chosen.add(plan.relative_to(folder).as_posix())
    for name in (MANIFEST, PLAN_FILE):
        if (folder / name).is_file():
            chosen.add(name)
    return sorted(chosen)


def _token(token_env: str | None) -> str:
    if token_env is not None:
        value = os.environ.get(token_env, "").strip()
        if not value:
            raise HubError(f"${token_env} is not set: put a Hugging Face write token in it, or drop --token-env")
        return value
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise HubError(
            "no Hugging Face token: run `hf auth login`, set HF_TOKEN, or pass --token-env VAR naming a variable "
            "that holds a write token"
        )
    return found


def _reason(exc: BaseException, token: str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return redact(text.replace(token, "***"))


def push_folder(
    folder: Path, repo_id: str, *, private: bool = False, token_env: str | None = None, license: str | None = None
) -> PushReport:
    """Write the card of `folder` and upload it with its data to the dataset repo `repo_id` (created if missing)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ConfigError(f"{repo_id!r} is not a Hub repo id: give OWNER/NAME, e.g. my-org/humanllm-episodes") from exc
    if "/" not in repo_id:
        raise ConfigError(f"{repo_id!r} has no owner: give OWNER/NAME, e.g. my-org/{repo_id}")
    if os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE:
        raise HubError("HF_HUB_OFFLINE is set: unset it to push to the Hub")
    token = _token(token_env)
    existing = read_front_matter(folder / CARD_FILE)
    if existing is not None and not existing[1]:
        logger.warning("%s was not written by humanllm: pushing it as it is", folder / CARD_FILE)
    else:
        write_card(folder, license=license)
    files = upload_files(folder)
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=folder,
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=[glob.escape(name) for name in files],
            commit_message=f"humanllm data push: {len(files)} files",
        )
    except Exception as exc:  # the client raises HTTP, network and validation errors of many kinds
        raise HubError(
            f"pushing {folder} to {repo_id} failed ({_reason(exc, token)}); check the token's write access and "
            "the repo id, then push again"
        ) from exc
    return PushReport(
        repo_id=repo_id,
        url=f"https://huggingface.co/datasets/{repo_id}",
        files=files,
        private=private,
        commit=getattr(commit, "oid", None),
    )
