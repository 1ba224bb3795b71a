"""Running simulations: one episode now; batches, the store and splits build on this."""

from humanllm.simulation._config import RoleSpecs, SimulationConfig
from humanllm.simulation._identity import episode_id, template_versions
from humanllm.simulation._lock import StoreLock, read_holder
from humanllm.simulation._manifest import finished_manifest, run_manifest
from humanllm.simulation._records import RecordStore
from humanllm.simulation._run import Plan, RoleModels, plan_episode, run_episode, simulate
from humanllm.simulation._store import EpisodeStore, Failure, FailureGroup, reason_cause

__all__ = [
    "EpisodeStore",
    "Failure",
    "FailureGroup",
    "Plan",
    "RecordStore",
    "RoleModels",
    "RoleSpecs",
    "SimulationConfig",
    "StoreLock",
    "episode_id",
    "finished_manifest",
    "plan_episode",
    "read_holder",
    "reason_cause",
    "run_episode",
    "run_manifest",
    "simulate",
    "template_versions",
]
