"""The bundled SmolLM2-135M as a trainable transformers folder, converted once from its GGUF.

transformers can read the GGUF but marks the model as quantized, which training refuses; the
quantizer flags are stripped and the model saved once as a plain fp32 folder in the cache.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from humanllm.llm import local_gguf_path

logger = logging.getLogger(__name__)

BUNDLED_NAME = "smollm2-135m-instruct"
BUNDLED_SPEC = "bundled:smollm2"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "humanllm" / "models"


def bundled_hf_model(cache_dir: Path | None = None) -> Path:
    """Path of the converted folder, converting on first use (about 20 s on 2 cores)."""
    target = (cache_dir or cache_root()) / BUNDLED_NAME
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = local_gguf_path()
    logger.info("converting %s to a transformers folder in %s (once)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # training refuses models flagged as quantized; the weights are already plain fp32 here
    setattr(model, "hf_quantizer", None)  # noqa: B010
    setattr(model, "is_quantized", False)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    for stale in (partial, target):  # a crash mid-conversion leaves these half-written
        if stale.exists():
            shutil.rmtree(stale)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.replace(target)
    return target


def resolve_model_path(model: str, cache_dir: Path | None = None) -> str:
    """'bundled:smollm2' -> the converted folder; anything else is returned as given."""
    return str(bundled_hf_model(cache_dir)) if model == BUNDLED_SPEC else model
