"""Runs page, Export tab: export a run's generator as a model, download that model and the run folder as zips."""

from __future__ import annotations

import streamlit as st

from ganlab import paths
from ganlab.runs import Run, RunError, export_run, suggest_model_name
from ganlab.runs.archive import RUN_ZIP_LIMIT, model_files, model_zip_bytes, plan_run_zip, run_zip_bytes
from ui.widgets import show_error

EXPORT_NAME = "runs.export_name."  # + run id: the model name typed for that run


def export_panel(run: Run, label: str) -> None:
    """Model name, EMA choice and Export; then the model's download. Same checks as `ganlab export`."""
    folder = paths.pretrained_dir()
    name = st.text_input("Model name", value=suggest_model_name(run), max_chars=64, key=EXPORT_NAME + run.id,
                         help=f"Becomes <name>.safetensors + <name>.json in {folder}, listed on Home and Explore.")
    name = name.strip()
    left, right = st.columns(2)
    use_ema = left.toggle("EMA weights", value=True, key="runs.export_ema",
                          help="Export the moving average of G when the run has one (smoother samples).")
    overwrite = right.checkbox("Replace a model of this name", key="runs.export_overwrite",
                               help="Without it, a name that is already taken is refused.")
    if st.button("Export generator", key="runs.export", icon=":material/upload_file:"):
        try:
            weights = export_run(run, name, use_ema=use_ema, overwrite=overwrite)
        except (ValueError, OSError) as exc:  # ExportError / CheckpointError name the problem
            show_error(exc, hint="Pick another name, tick *Replace*, or wait for the run's first checkpoint.")
        else:
            st.success(f"Exported **{label}** as `{name}` to `{weights.parent}`; it is listed on Home and Explore.")
    model_download(name)


def model_download(name: str) -> None:
    """Download the model called name as <name>.zip (weights + card), when it exists."""
    try:
        model_files(name)
    except ValueError:
        st.caption("Export the generator to download it as a model (.safetensors weights + .json card, zipped).")
        return
    st.download_button(f"Download model {name} (.zip)", lambda: model_zip_bytes(name), f"{name}.zip",
                       "application/zip", key="runs.download_model", on_click="ignore", icon=":material/download:")


def run_download(run: Run) -> None:
    """Download the run folder as a zip: bounded in size, built on click, older step checkpoints left out."""
    try:
        plan = plan_run_zip(run)
    except RunError as exc:
        show_error(exc, hint="Copy the run folder with your file manager instead.")
        return
    st.download_button("Download run folder (.zip)", lambda: run_zip_bytes(run), f"{run.id}.zip", "application/zip",
                       key="runs.download_run", on_click="ignore", icon=":material/folder_zip:")
    left_out = "; ".join(plan.left_out) or "nothing"
    st.caption(f"{len(plan.members)} files, {plan.total_bytes / 1e6:.1f} MB before compression (a download holds "
               f"at most {RUN_ZIP_LIMIT / 2**20:.0f} MiB). Left out: {left_out}.")
