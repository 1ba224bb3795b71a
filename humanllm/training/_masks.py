"""Checking that only the target character's turns carry loss, the silent bug of role-play SFT."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class MaskProblem(BaseModel):
    record: int
    problem: str


class MaskReport(BaseModel):
    records: int = 0
    assistant_turns: int = 0
    trained_tokens: int = 0
    total_tokens: int = 0
    problems: list[MaskProblem] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _spans(mask: list[int]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    return spans


def tokenize_with_mask(tokenizer: Any, messages: list[dict[str, str]], template: str) -> tuple[list[int], list[int]]:
    out = tokenizer.apply_chat_template(
        messages, chat_template=template, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    return list(out["input_ids"]), list(out["assistant_masks"])


def check_record(tokenizer: Any, messages: list[dict[str, str]], template: str) -> tuple[list[str], int, int]:
    """Problems with one record's mask, plus trained and total token counts."""
    ids, mask = tokenize_with_mask(tokenizer, messages, template)
    spans = _spans(mask)
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    others = [m["content"] for m in messages if m["role"] != "assistant" and m["content"].strip()]
    problems: list[str] = []
    if not spans:
        problems.append("no token carries loss")
    elif len(spans) < len(replies):
        problems.append(f"only {len(spans)} of {len(replies)} target turns carry loss (final turn only?)")
    elif len(spans) > len(replies):
        problems.append(f"{len(spans)} trained spans for {len(replies)} target turns: other turns are trained")
    trained = [tokenizer.decode(ids[a:b]) for a, b in spans]
    for index, reply in enumerate(replies[: len(trained)]):
        if reply.strip() and reply.strip()[:40] not in trained[index]:
            problems.append(f"target turn {index + 1} is not inside its trained span")
    joined = "\n".join(trained)
    if any(other.strip()[:40] in joined for other in others if len(other.strip()) >= 12):
        problems.append("text of a non-target turn carries loss")
    return problems, sum(mask), len(ids)


def check_masks(tokenizer: Any, rows: list[dict[str, Any]], template: str, limit: int | None = None) -> MaskReport:
    report = MaskReport()
    for index, row in enumerate(rows[:limit] if limit else rows):
        messages = row["messages"]
        problems, trained, total = check_record(tokenizer, messages, template)
        report.records += 1
        report.assistant_turns += sum(1 for m in messages if m["role"] == "assistant")
        report.trained_tokens += trained
        report.total_tokens += total
        report.problems.extend(MaskProblem(record=index, problem=p) for p in problems)
    return report
