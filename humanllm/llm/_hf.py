"""A transformers checkpoint as a LangChain chat model (to run models you trained)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from pydantic import PrivateAttr

from humanllm.errors import BackendUnavailable
from humanllm.llm._base import HumanChatModel
from humanllm.llm._messages import json_schema_of, to_chat_dicts
from humanllm.llm._prompts import render

logger = logging.getLogger(__name__)


class TransformersChatModel(HumanChatModel):
    """Generates with `AutoModelForCausalLM` and the tokenizer's chat template.

    A requested JSON schema is put into the system prompt; the caller validates and repairs.
    """

    path: str
    temperature: float = 0.8
    max_tokens: int = 512
    seed: int | None = None
    device: str | None = None

    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "transformers"

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            if not Path(self.path).exists():
                raise BackendUnavailable(f"hf:{self.path}: no such folder; give the path of a saved checkpoint")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            dtype = torch.bfloat16 if device == "cuda" else torch.float32
            logger.info("loading %s on %s", self.path, device)
            self._tokenizer = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype)
            self._model = model.to(device).eval()  # type: ignore[arg-type]
        return self._model, self._tokenizer

    def _reply(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> AIMessage:
        import json

        import torch

        schema = json_schema_of(kwargs.get("response_format"))
        if schema is not None:
            instruction = render("hf_schema_instruction", schema=json.dumps(schema) if schema else "")
            messages = [SystemMessage(content=instruction), *messages]
        with self._lock:
            model, tokenizer = self._load()
            seed = kwargs.get("seed", self.seed)  # per call (an episode's own seed) over the model's
            if seed is not None:
                torch.manual_seed(int(seed))
            inputs = tokenizer.apply_chat_template(
                to_chat_dicts(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(model.device)
            temperature = float(kwargs.get("temperature", self.temperature))
            with torch.no_grad():
                output = model.generate(
                    **inputs,
                    max_new_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = output[0][prompt_len:]
        text = tokenizer.decode(new_tokens, skip_special_tokens=True)
        for marker in stop or []:
            text = text.split(marker)[0]
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": int(prompt_len),
                "output_tokens": int(new_tokens.shape[0]),
                "total_tokens": int(prompt_len + new_tokens.shape[0]),
            },
        )
        return message
