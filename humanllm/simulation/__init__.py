"""Running simulations: one episode now; batches, the store and splits build on this."""

from typing import TYPE_CHECKING

from humanllm._lazy import lazy_exports

if TYPE_CHECKING:
    from humanllm.simulation._card import CARD_FILE, read_front_matter, refresh_card, render_card, write_card
    from humanllm.simulation._card_data import CardConfig, CardData, CardSplit, card_data, folder_kind
    from humanllm.simulation._config import RoleSpecs, SimulationConfig
    from humanllm.simulation._derived_specs import CellSpec
    from humanllm.simulation._drive import check_checkpointing, drive_episode
    from humanllm.simulation._endpoints import Endpoint, endpoints_from, read_endpoints, rendezvous
    from humanllm.simulation._episode_file import read_episode_file
    from humanllm.simulation._estimate import RoleEstimate, RunEstimate, estimate_run
    from humanllm.simulation._fork_spec import ForkSpec, PatternChange
    from humanllm.simulation._hub import PushReport, push_folder, upload_files
    from humanllm.simulation._jobs import (
        in_shard,
        jobs_from_bundles,
        ood_jobs,
        parse_shard,
        parse_situations,
        plan_jobs,
        read_bundles,
        sample_jobs,
        situations_for,
        triggered_situations,
        untriggered,
    )
    from humanllm.simulation._lock import StoreLock, permission_denied, read_holder, shard_lock_name
    from humanllm.simulation._manifest import finished_manifest, run_manifest
    from humanllm.simulation._ood import choose_ood
    from humanllm.simulation._parquet import ParquetReport, export_parquet
    from humanllm.simulation._ray import RayOptions, default_tasks, import_ray, run_on_ray, shard_tasks
    from humanllm.simulation._ray_tally import ProgressTally, TallySnapshot
    from humanllm.simulation._ray_task import ShardTask, run_shard
    from humanllm.simulation._ray_totals import RayRun, TaskResult, merge_endpoints, merge_reports
    from humanllm.simulation._records import RecordStore
    from humanllm.simulation._released import ImportReport, episode_to_released, import_released
    from humanllm.simulation._released_write import ExportReport, export_released
    from humanllm.simulation._router import EndpointReport, EndpointRouter, Replica, check_health
    from humanllm.simulation._run import Plan, RoleModels, plan_episode, run_episode, simulate
    from humanllm.simulation._runner import (
        EpisodeJob,
        OnEvent,
        PlannedEpisode,
        RunOptions,
        RunReport,
        run_batch,
        run_jobs,
    )
    from humanllm.simulation._spec import (
        EPISODE_TEMPLATES,
        EpisodeSpec,
        episode_id,
        episode_sampling_seed,
        episode_spec,
        template_versions,
    )
    from humanllm.simulation._split_plan import (
        EVAL_SPLITS,
        PLAN_FILE,
        SPLITS,
        SplitPlan,
        is_split_folder,
        plan_warnings,
        read_plan,
        store_ood,
        store_plans,
    )
    from humanllm.simulation._splits import classify, classify_patterns, split_store
    from humanllm.simulation._store import (
        EpisodeStore,
        Failure,
        FailureGroup,
        appending,
        read_lines,
        reason_cause,
        repair_torn_tail,
    )
    from humanllm.simulation._store_url import (
        StoreLocation,
        download_shard,
        remote_done_ids,
        store_location,
        update_remote_manifest,
        upload_shard,
    )
    from humanllm.simulation._training_set import OOD_HOLDERS, TrainingSet, training_set
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "CARD_FILE",
    "EPISODE_TEMPLATES",
    "EVAL_SPLITS",
    "OOD_HOLDERS",
    "PLAN_FILE",
    "SPLITS",
    "CardConfig",
    "CardData",
    "CardSplit",
    "CellSpec",
    "Endpoint",
    "EndpointReport",
    "EndpointRouter",
    "EpisodeJob",
    "EpisodeSpec",
    "EpisodeStore",
    "ExportReport",
    "Failure",
    "FailureGroup",
    "ForkSpec",
    "ImportReport",
    "OnEvent",
    "ParquetReport",
    "PatternChange",
    "Plan",
    "PlannedEpisode",
    "ProgressTally",
    "PushReport",
    "RayOptions",
    "RayRun",
    "RecordStore",
    "Replica",
    "RoleEstimate",
    "RoleModels",
    "RoleSpecs",
    "RunEstimate",
    "RunOptions",
    "RunReport",
    "ShardTask",
    "SimulationConfig",
    "SplitPlan",
    "StoreLocation",
    "StoreLock",
    "TallySnapshot",
    "TaskResult",
    "TrainingSet",
    "appending",
    "card_data",
    "check_checkpointing",
    "check_health",
    "choose_ood",
    "classify",
    "classify_patterns",
    "default_tasks",
    "download_shard",
    "drive_episode",
    "endpoints_from",
    "episode_id",
    "episode_sampling_seed",
    "episode_spec",
    "episode_to_released",
    "estimate_run",
    "export_parquet",
    "export_released",
    "finished_manifest",
    "folder_kind",
    "import_ray",
    "import_released",
    "in_shard",
    "is_split_folder",
    "jobs_from_bundles",
    "merge_endpoints",
    "merge_reports",
    "ood_jobs",
    "parse_shard",
    "parse_situations",
    "permission_denied",
    "plan_episode",
    "plan_jobs",
    "plan_warnings",
    "push_folder",
    "read_bundles",
    "read_endpoints",
    "read_episode_file",
    "read_front_matter",
    "read_holder",
    "read_lines",
    "read_plan",
    "reason_cause",
    "refresh_card",
    "remote_done_ids",
    "render_card",
    "rendezvous",
    "repair_torn_tail",
    "run_batch",
    "run_episode",
    "run_jobs",
    "run_manifest",
    "run_on_ray",
    "run_shard",
    "sample_jobs",
    "shard_lock_name",
    "shard_tasks",
    "simulate",
    "situations_for",
    "split_store",
    "store_location",
    "store_ood",
    "store_plans",
    "template_versions",
    "training_set",
    "triggered_situations",
    "untriggered",
    "update_remote_manifest",
    "upload_files",
    "upload_shard",
    "write_card",
]
