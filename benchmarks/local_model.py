"""Tokens/s of the embedded local model: raw llama-cpp-python vs humanllm's backend.

Run:  python benchmarks/local_model.py [--threads 2] [--repeats 3]
Prints one table: free text and schema-constrained JSON, single and concurrent requests.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from humanllm.llm import ModelSettings, build_role_model, local_gguf_path, response_format_for, shared_engine

PROMPT = [
    {"role": "system", "content": "You are Mara, a nervous new nurse on a night shift."},
    {
        "role": "user",
        "content": "Dr. Hale: (frowns at the chart) Who wrote this dose? Tell me what happened.",
    },
]


ARGS_THREADS = [2]


class TurnReply(BaseModel):
    thought: str = Field(max_length=200)
    action: str = Field(max_length=120)
    speech: str = Field(max_length=300)


def _raw(threads: int, max_tokens: int, schema: dict | None) -> int:
    engine = shared_engine(str(local_gguf_path()), threads, 4096)
    kwargs: dict = {"messages": PROMPT, "max_tokens": max_tokens, "temperature": 0.8, "seed": 1}
    if schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": schema}
    with engine.lock:
        reply = engine.llama.create_chat_completion(**kwargs)
    return _count(reply["choices"][0]["message"]["content"] or "")


def _count(text: str) -> int:
    """Tokens in a reply, counted the same way for both paths (the model's own tokenizer)."""
    engine = shared_engine(str(local_gguf_path()), ARGS_THREADS[0], 4096)
    return len(engine.llama.tokenize(text.encode(), add_bos=False))


def _rate(fn: Callable[[], int], n: int, concurrency: int) -> float:
    """Completion tokens per second over `n` calls, `concurrency` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        tokens = sum(pool.map(lambda _i: fn(), range(n)))
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    ARGS_THREADS[0] = args.threads
    schema = TurnReply.model_json_schema()
    settings = ModelSettings(threads=args.threads, max_tokens=args.max_tokens, seed=1)
    model = build_role_model("character", "local", settings)

    def ours(s: dict | None) -> int:
        messages = [SystemMessage(content=PROMPT[0]["content"]), HumanMessage(content=PROMPT[1]["content"])]
        kwargs = {"response_format": response_format_for(TurnReply)} if s is not None else {}
        return _count(model.text(messages, **kwargs))

    _raw(args.threads, 8, None)  # warm up
    print(f"{'mode':<12} {'concurrency':>11} {'raw tok/s':>10} {'humanllm tok/s':>15} {'ratio':>6}")
    for label, s in (("free text", None), ("json schema", schema)):
        for concurrency in (1, 4):
            n = args.repeats * concurrency
            raw = _rate(lambda s=s: _raw(args.threads, args.max_tokens, s), n, concurrency)
            mine = _rate(lambda s=s: ours(s), n, concurrency)
            print(f"{label:<12} {concurrency:>11} {raw:>10.1f} {mine:>15.1f} {mine / raw:>6.2f}")


if __name__ == "__main__":
    main()
