"""Run folders: the store (config, metrics, samples, status), checkpoints, and exporting a generator as a model."""

from ganlab.runs.checkpoint import CheckpointError, build_from_state, load_checkpoint, save_checkpoint, to_cpu
from ganlab.runs.export import (
    ExportError,
    check_model_name,
    export_generator,
    export_run,
    list_pretrained,
    machine_description,
    suggest_model_name,
)
from ganlab.runs.store import ACTIVE_STATES, Run, RunError, create_run, delete_run, list_runs, open_run

__all__ = [
    "ACTIVE_STATES", "CheckpointError", "ExportError", "Run", "RunError", "build_from_state", "check_model_name",
    "create_run", "delete_run",
    "export_generator", "export_run", "list_pretrained", "load_checkpoint", "list_runs", "machine_description",
    "open_run", "save_checkpoint", "suggest_model_name", "to_cpu",
]
