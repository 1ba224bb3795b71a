"""The multi-agent conversation graph."""

from humanllm.graphs.conversation.context import ConversationContext
from humanllm.graphs.conversation.graph import conversation_graph, recursion_limit
from humanllm.graphs.conversation.state import ConversationState

__all__ = ["ConversationContext", "ConversationState", "conversation_graph", "recursion_limit"]
