"""The chat-model providers LangChain's `init_chat_model` knows, and the package each one needs.

A spec `<provider>:<model>` (`anthropic:claude-sonnet-4-5`, `ollama:qwen3:8b`) is built by
`langchain.chat_models.init_chat_model`; the user installs the provider's integration package.
The table is ours (parsing a spec must not import langchain); a test checks it against LangChain's.
`openai` is not here: `openai:<model>` stays our OpenAI-compatible backend (any base URL).
"""

from __future__ import annotations

PROVIDER_PACKAGES: dict[str, str] = {
    "anthropic": "langchain-anthropic",
    "anthropic_bedrock": "langchain-aws",
    "azure_ai": "langchain-azure-ai",
    "azure_openai": "langchain-openai",
    "baseten": "langchain-baseten",
    "bedrock": "langchain-aws",
    "bedrock_converse": "langchain-aws",
    "bedrock_mantle_anthropic": "langchain-aws[anthropic]",
    "bedrock_mantle_openai": "langchain-aws[openai]",
    "cohere": "langchain-cohere",
    "deepseek": "langchain-deepseek",
    "fireworks": "langchain-fireworks",
    "google_anthropic_vertex": "langchain-google-vertexai",
    "google_genai": "langchain-google-genai",
    "google_vertexai": "langchain-google-vertexai",
    "groq": "langchain-groq",
    "huggingface": "langchain-huggingface",
    "ibm": "langchain-ibm",
    "litellm": "langchain-litellm",
    "meta": "langchain-meta",
    "mistralai": "langchain-mistralai",
    "nvidia": "langchain-nvidia-ai-endpoints",
    "ollama": "langchain-ollama",
    "openrouter": "langchain-openrouter",
    "perplexity": "langchain-perplexity",
    "together": "langchain-together",
    "upstage": "langchain-upstage",
    "xai": "langchain-xai",
}
"""Provider (as `init_chat_model` spells it) -> the pip package that brings its chat model."""

_TOKEN_LIMIT_FIELD: dict[str, str] = {"ollama": "num_predict"}
"""The constructor argument that limits a reply's tokens, where it is not `max_tokens`."""


def provider_package(provider: str) -> str:
    """The pip package a provider needs (`anthropic` -> `langchain-anthropic`)."""
    return PROVIDER_PACKAGES[provider]


def module_of(package: str) -> str:
    """The importable top-level module of an integration package (`langchain-aws[openai]` -> `langchain_aws`)."""
    return package.split("[", 1)[0].replace("-", "_")


def token_limit_field(provider: str) -> str:
    """The keyword that carries `--max-tokens` to the provider's chat model."""
    return _TOKEN_LIMIT_FIELD.get(provider, "max_tokens")
