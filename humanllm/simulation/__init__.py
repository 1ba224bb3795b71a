"""Running simulations: one episode now; batches, the store and splits build on this."""

from humanllm.simulation._config import RoleSpecs, SimulationConfig
from humanllm.simulation._identity import episode_id, template_versions
from humanllm.simulation._run import Plan, RoleModels, plan_episode, run_episode, simulate

__all__ = [
    "Plan",
    "RoleModels",
    "RoleSpecs",
    "SimulationConfig",
    "episode_id",
    "plan_episode",
    "run_episode",
    "simulate",
    "template_versions",
]
