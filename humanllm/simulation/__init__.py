"""Running simulations: one episode now; batches, the store and splits build on this."""

from humanllm.simulation._config import RoleSpecs, SimulationConfig
from humanllm.simulation._lock import StoreLock, read_holder
from humanllm.simulation._run import Plan, RoleModels, plan_episode, run_episode, simulate
from humanllm.simulation._spec import (
    EPISODE_TEMPLATES,
    EpisodeSpec,
    episode_id,
    episode_sampling_seed,
    episode_spec,
    template_versions,
)
from humanllm.simulation._store import EpisodeStore, Failure, FailureGroup, reason_cause

__all__ = [
    "EPISODE_TEMPLATES",
    "EpisodeSpec",
    "EpisodeStore",
    "Failure",
    "FailureGroup",
    "Plan",
    "RoleModels",
    "RoleSpecs",
    "SimulationConfig",
    "StoreLock",
    "episode_id",
    "episode_sampling_seed",
    "episode_spec",
    "plan_episode",
    "read_holder",
    "reason_cause",
    "run_episode",
    "simulate",
    "template_versions",
]
