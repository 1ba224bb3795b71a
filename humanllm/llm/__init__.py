"""Model backends: every provider-specific line of humanllm lives in this package."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.llm._base import HumanChatModel
    from humanllm.llm._cache import SQLiteResponseCache
    from humanllm.llm._call_stats import CallStats, EndpointUsage
    from humanllm.llm._endpoint import METHOD_CHAIN, StructuredEndpoint, StructuredMethod, endpoint_methods
    from humanllm.llm._factory import (
        BackendStatus,
        backend_statuses,
        build_chat_model,
        build_role_model,
        rate_limiter_for,
    )
    from humanllm.llm._fakes import FakeBuilder, register_fake_backend
    from humanllm.llm._keyed import NAME, KeyedReply, shape_key
    from humanllm.llm._local import LOCAL_MODEL_NAME, LlamaCppChatModel, local_gguf_path, shared_engine
    from humanllm.llm._messages import json_schema_of
    from humanllm.llm._prices import Price, PriceTable, load_prices
    from humanllm.llm._prompts import MODEL_TEMPLATES, model_template_versions
    from humanllm.llm._role import ROLES, RoleModel
    from humanllm.llm._schemas import response_format_for, schema_of
    from humanllm.llm._settings import GenerationSpec, ModelSettings
    from humanllm.llm._spec import BACKENDS, DEFAULT_SPEC, ModelSpec, canonical_spec, parse_spec, spec_help
    from humanllm.llm._structured import extract_json, parse_reply
    from humanllm.llm._usage import UsageMeter
    from humanllm.llm._vllm import VLLM_ARGS_ENV, VLLMChatModel, vllm_engine_args_from_env
    from humanllm.llm._vllm_engine import shutdown_vllm_engines, vllm_prefix_cache_stats
    from humanllm.redaction import redact, redact_url
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BACKENDS",
    "DEFAULT_SPEC",
    "LOCAL_MODEL_NAME",
    "METHOD_CHAIN",
    "MODEL_TEMPLATES",
    "NAME",
    "ROLES",
    "VLLM_ARGS_ENV",
    "BackendStatus",
    "CallStats",
    "EndpointUsage",
    "FakeBuilder",
    "GenerationSpec",
    "HumanChatModel",
    "KeyedReply",
    "LlamaCppChatModel",
    "ModelSettings",
    "ModelSpec",
    "Price",
    "PriceTable",
    "RoleModel",
    "SQLiteResponseCache",
    "StructuredEndpoint",
    "StructuredMethod",
    "UsageMeter",
    "VLLMChatModel",
    "backend_statuses",
    "build_chat_model",
    "build_role_model",
    "canonical_spec",
    "endpoint_methods",
    "extract_json",
    "json_schema_of",
    "load_prices",
    "local_gguf_path",
    "model_template_versions",
    "parse_reply",
    "parse_spec",
    "rate_limiter_for",
    "redact",
    "redact_url",
    "register_fake_backend",
    "response_format_for",
    "schema_of",
    "shape_key",
    "shared_engine",
    "shutdown_vllm_engines",
    "spec_help",
    "vllm_engine_args_from_env",
    "vllm_prefix_cache_stats",
]
