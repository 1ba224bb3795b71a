"""The multi-agent conversation graph."""

from humanllm.graphs.conversation.context import ConversationContext, ConversationParts, Speaker
from humanllm.graphs.conversation.graph import conversation_graph, recursion_limit
from humanllm.graphs.conversation.state import ConversationState

__all__ = [
    "ConversationContext",
    "ConversationParts",
    "ConversationState",
    "Speaker",
    "conversation_graph",
    "recursion_limit",
]
