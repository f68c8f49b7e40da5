"""Run folders: the store (config, metrics, samples, checkpoints), the lifecycle (status, lock), exports, summaries."""

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
from ganlab.runs.lifecycle import (
    RunRecorder,
    RunState,
    busy_message,
    changing,
    delete_run,
    is_live,
    read_status,
    rename_run,
    state_of,
)
from ganlab.runs.lock import RunBusyError
from ganlab.runs.store import Run, RunError, create_run, list_runs, open_run

__all__ = [
    "CheckpointError", "ExportError", "Run", "RunBusyError", "RunError", "RunRecorder", "RunState",
    "build_from_state", "busy_message", "changing", "check_model_name", "create_run", "delete_run",
    "export_generator", "export_run", "is_live", "list_pretrained", "list_runs", "load_checkpoint",
    "machine_description", "open_run", "read_status", "rename_run", "save_checkpoint", "state_of",
    "suggest_model_name", "to_cpu",
]
