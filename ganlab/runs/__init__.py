"""Run folders: the store (config, metrics, samples, status), checkpoints, and exporting a generator as a model."""

from ganlab.runs.checkpoint import CheckpointError, build_from_state, load_checkpoint, save_checkpoint, to_cpu
from ganlab.runs.export import export_generator, list_pretrained, machine_description
from ganlab.runs.store import ACTIVE_STATES, Run, RunError, create_run, delete_run, list_runs, open_run

__all__ = [
    "ACTIVE_STATES", "CheckpointError", "Run", "RunError", "build_from_state", "create_run", "delete_run",
    "export_generator", "list_pretrained", "load_checkpoint", "list_runs", "machine_description", "open_run",
    "save_checkpoint", "to_cpu",
]
