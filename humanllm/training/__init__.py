"""SFT data and training: export, loss-mask check, mixing, the TRL trainer and its recipes."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.training._bundled import BUNDLED_SPEC, bundled_hf_model, resolve_model_path
    from humanllm.training._export import ExportReport, export_sft
    from humanllm.training._export_config import FORMATS as TRAINER_FORMATS
    from humanllm.training._export_config import TrainerFormat, export_config
    from humanllm.training._masks import MaskReport, check_masks, tokenize_with_mask
    from humanllm.training._mix import MixReport, Source, exact_counts, mix, parse_source, read_rows, to_messages
    from humanllm.training._recipe import Recipe, apply_overrides, load_recipe, recipe_names
    from humanllm.training._sft_format import episode_records, prompt_messages
    from humanllm.training._templates import NAMED as NAMED_TEMPLATES
    from humanllm.training._templates import masking_template
    from humanllm.training._train import TrainReport, load_sft_dataset, merge_lora, train
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BUNDLED_SPEC",
    "NAMED_TEMPLATES",
    "TRAINER_FORMATS",
    "ExportReport",
    "MaskReport",
    "MixReport",
    "Recipe",
    "Source",
    "TrainReport",
    "TrainerFormat",
    "apply_overrides",
    "bundled_hf_model",
    "check_masks",
    "episode_records",
    "exact_counts",
    "export_config",
    "export_sft",
    "load_recipe",
    "load_sft_dataset",
    "masking_template",
    "merge_lora",
    "mix",
    "parse_source",
    "prompt_messages",
    "read_rows",
    "recipe_names",
    "resolve_model_path",
    "to_messages",
    "tokenize_with_mask",
    "train",
]
