"""What the driver of `generate --ray` makes of its tasks' reports: one run report, and the manifest's `ray` section."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from humanllm.llm import endpoint_methods
from humanllm.simulation._router import EndpointReport
from humanllm.simulation._runner import RunReport


class TaskResult(BaseModel):
    """How one shard task ended: its report, or the error that ended it."""

    shard: str
    jobs: int = Field(description="Episodes the task was given.")
    report: RunReport | None = None
    error: str | None = Field(default=None, description="Why the task ended without a report (raised, or lost).")
    starts: int = Field(default=0, description="Times the task started (above 1: Ray ran it again).")


class RayRun(BaseModel):
    """A whole `--ray` run: the summed report and each task's result."""

    report: RunReport
    tasks: list[TaskResult] = Field(default_factory=list)

    @property
    def failed_tasks(self) -> list[TaskResult]:
        return [task for task in self.tasks if task.error is not None]

    def manifest_entries(self, *, address: str, cluster_cpus: int) -> dict[str, Any]:
        """What the driver adds to the manifest at the end (the same keys as a one-process run, plus `ray`)."""
        return {
            "last_run": self.report.model_dump(),
            "structured_output": endpoint_methods(),
            "finished_at": time.time(),
            "ray": {
                "address": address,
                "cluster_cpus": cluster_cpus,
                "tasks": len(self.tasks),
                "retried_tasks": sum(task.starts > 1 for task in self.tasks),
                "shards": [
                    {
                        "shard": task.shard,
                        "jobs": task.jobs,
                        "starts": task.starts,
                        "done": task.report.done if task.report else 0,
                        "failed": task.report.failed if task.report else 0,
                        "tokens": task.report.usage.total_tokens if task.report else 0,
                        "error": task.error,
                    }
                    for task in self.tasks
                ],
            },
        }


def merge_reports(results: list[TaskResult], *, requested: int, already_done: int, elapsed_s: float) -> RayRun:
    """One report for the run: counts and usage summed over the tasks; lost tasks stop it with a reason."""
    total = RunReport(requested=requested, already_done=already_done, elapsed_s=elapsed_s)
    reasons = []
    for result in results:
        if result.report is None:
            continue
        part = result.report
        # the driver handed out only what was not done: what a task found in its shard, an earlier attempt of
        # it (whose worker died) wrote in this run
        total.done += part.done + part.already_done
        total.failed += part.failed
        total.usage = total.usage.add(part.usage)
        total.usage_failed = total.usage_failed.add(part.usage_failed)
        total.stopped_by_budget = total.stopped_by_budget or part.stopped_by_budget
        if part.stopped_reason:
            reasons.append(f"{result.shard}: {part.stopped_reason}")
    total.endpoints = merge_endpoints([r.report.endpoints for r in results if r.report is not None])
    lost = [result for result in results if result.error is not None]
    if lost:
        jobs = sum(result.jobs for result in lost)
        reasons.insert(
            0,
            f"{len(lost)} Ray task(s) ended without finishing ({jobs} episodes; first: {lost[0].error}); "
            "run the same command again to resume them",
        )
    total.stopped_reason = "; ".join(reasons) or None
    return RayRun(report=total, tasks=results)


def merge_endpoints(parts: list[dict[str, EndpointReport]]) -> dict[str, EndpointReport]:
    """Each replica's figures over the tasks: counts summed, the mean latency weighted by calls, p50 and
    p95 the largest of the tasks' (an upper bound of the whole run's), healthy only if healthy in every task."""
    merged: dict[str, EndpointReport] = {}
    for part in parts:
        for url, figures in part.items():
            seen = merged.get(url)
            if seen is None:
                merged[url] = figures.model_copy()
                continue
            calls = seen.calls + figures.calls
            means = [
                (m, c)
                for m, c in ((seen.latency_mean_s, seen.calls), (figures.latency_mean_s, figures.calls))
                if m is not None
            ]
            merged[url] = seen.model_copy(
                update={
                    "calls": calls,
                    "errors": seen.errors + figures.errors,
                    "prompt_tokens": seen.prompt_tokens + figures.prompt_tokens,
                    "completion_tokens": seen.completion_tokens + figures.completion_tokens,
                    "episodes": seen.episodes + figures.episodes,
                    "latency_mean_s": round(sum(m * c for m, c in means) / sum(c for _, c in means), 4)
                    if means and sum(c for _, c in means)
                    else None,
                    "latency_p50_s": _largest(seen.latency_p50_s, figures.latency_p50_s),
                    "latency_p95_s": _largest(seen.latency_p95_s, figures.latency_p95_s),
                    "healthy": seen.healthy and figures.healthy,
                    "last_problem": seen.last_problem or figures.last_problem,
                }
            )
    return merged


def _largest(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return max(values) if values else None
