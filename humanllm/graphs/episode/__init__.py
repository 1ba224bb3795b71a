"""The episode pipeline graph."""

from humanllm.graphs.episode.context import EpisodeContext, EpisodeParts, Mode
from humanllm.graphs.episode.graph import episode_graph
from humanllm.graphs.episode.state import EpisodeState

__all__ = ["EpisodeContext", "EpisodeParts", "EpisodeState", "Mode", "episode_graph"]
