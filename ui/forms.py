"""The New-run form's widgets: one keyed widget per TrainConfig field, presets, recipes, errors beside fields."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ganlab import data
from ganlab.config import (
    ARCH_RECIPES,
    ARCHS,
    AUGMENTS,
    D_NORMS,
    DCGAN_SIZES,
    FITS,
    LOSS_RECIPES,
    LOSSES,
    PRESETS,
    dataset_recipe,
    field_help,
    pair_recipe,
)
from ganlab.device import available_devices, cuda_device_count, resolve_device, supported_precisions
from ui import form_state, state

UPLOAD = "cfg.__upload__"
UPLOAD_LIMIT_MB = 1024


def open_if_wrong(key: str, fields: tuple[str, ...], errors: dict[str, str]) -> None:
    """Open the keyed expander holding these fields when one of them has a problem."""
    if any(f in errors for f in fields):
        st.session_state[key] = True


def field_error(field: str, errors: dict[str, str]) -> None:
    """The problem of one field, right under its widget."""
    if field in errors:
        st.caption(f":red[{errors[field]}]")


def _apply_preset() -> None:
    name = st.session_state.get(state.PRESET)
    if name in PRESETS:
        form_state.set_values(PRESETS[name].values)


# Choosing an architecture or a loss loads its recipe from ganlab.config (the CLI applies the same).
def _pair_rates() -> dict[str, Any]:
    """The learning rates measured for the chosen dataset, loss and architecture (ganlab.config.PAIR_RECIPES)."""
    return pair_recipe(*(st.session_state[state.form_key(f)] for f in ("loss", "dataset", "arch")))


def _on_arch() -> None:
    form_state.set_values({**ARCH_RECIPES.get(st.session_state[state.form_key("arch")], {}), **_pair_rates()})


def _on_loss() -> None:
    form_state.set_values({**LOSS_RECIPES.get(st.session_state[state.form_key("loss")], {}), **_pair_rates()})


def _on_dataset() -> None:
    """A built-in dataset loads its measured image size, widths, batch and EMA (ganlab.config.DATASET_RECIPES),
    and the learning rates measured for it with the chosen loss (PAIR_RECIPES; the loss's own otherwise)."""
    form_state.set_values({**dataset_recipe(st.session_state[state.form_key("dataset")]), **_pair_rates()})


def _on_upload() -> None:
    """Extract an uploaded zip into the data folder and point the form at it as a folder dataset."""
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    try:
        if upload.size > UPLOAD_LIMIT_MB * 1024**2:
            raise ValueError(f"{upload.name} is {upload.size / 1024**2:.0f} MB; the limit is {UPLOAD_LIMIT_MB} MB")
        folder = data.extract_zip(upload.getvalue(), name=upload.name.rsplit(".", 1)[0])
    except ValueError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    form_state.set_values({"dataset": "folder", "data_path": str(folder)})
    st.session_state[state.FLASH] = ("success", f"Extracted {upload.name} to {folder}; training reads it as a folder.")


def _k(field: str) -> str:
    return state.form_key(field)


_HELP: dict[str, str] = {}


def _help(field: str) -> str | None:
    if not _HELP:
        _HELP.update(field_help())
    return _HELP.get(field)


def preset_picker() -> None:
    """Selectbox of named recipes; choosing one writes its values into the fields below."""
    st.selectbox("Preset", ["(custom)", *PRESETS], key=state.PRESET, on_change=_apply_preset,
                 format_func=lambda n: PRESETS[n].title if n in PRESETS else n,
                 help="Loads a published recipe into the fields; edit any value afterwards.")
    chosen = PRESETS.get(st.session_state.get(state.PRESET, ""))
    if chosen is not None:
        st.caption(f"{chosen.description} (CLI: `--preset {chosen.name}`)")


def normalise_data_fields() -> None:
    """Make the data fields agree with the chosen dataset before the form is read (a subset another source
    offered, a path a built-in set does not use)."""
    names = data.list_datasets()
    if st.session_state[_k("dataset")] not in names:
        st.session_state[_k("dataset")] = names[0]
    info = data.dataset_info(st.session_state[_k("dataset")])
    if not info["needs_path"]:
        st.session_state[_k("data_path")] = ""
    subsets = info["subsets"]
    if not subsets:
        st.session_state[_k("data_subset")] = ""
    elif st.session_state[_k("data_subset")] not in subsets:
        st.session_state[_k("data_subset")] = info.get("default_subset") or subsets[0]


def dataset_section(errors: dict[str, str]) -> dict[str, Any]:
    """Dataset source, path or upload, subset, image size, channels, flips."""
    names = data.list_datasets()
    name = st.selectbox("Dataset", names, key=_k("dataset"), help=_help("dataset"), on_change=_on_dataset)
    info = data.dataset_info(name)
    st.caption(info["description"])
    if name == "zip":
        st.file_uploader(f"Upload a .zip of images (up to {UPLOAD_LIMIT_MB} MB)", type=["zip"], key=UPLOAD,
                         on_change=_on_upload, max_upload_size=UPLOAD_LIMIT_MB)
    if info["needs_path"]:
        st.text_input("Zip file path" if name == "zip" else "Image folder path", key=_k("data_path"),
                      placeholder="/path/to/images", help="A folder of images (subfolders become classes)")
        field_error("data_path", errors)
        st.radio("Make images square by", FITS, key=_k("fit"), horizontal=True, help=_help("fit"),
                 format_func={"crop": "cropping the centre", "pad": "padding the whole image"}.get)
    if info["subsets"]:
        st.selectbox("Subset", info["subsets"], key=_k("data_subset"), help=_help("data_subset"))
    c1, c2 = st.columns(2)
    with c1:
        st.selectbox("Image size (px)", DCGAN_SIZES, key=_k("img_size"), help=_help("img_size"))
        field_error("img_size", errors)
    _number(c1, "Centre crop (fraction kept)", "centre_crop", errors, 0.05)
    # Labels must not depend on the dataset: a selectbox whose option labels change keeps the old label as its
    # value in the browser. The dataset's own channel count goes into the help text instead.
    c2.selectbox("Channels", (0, 1, 3), key=_k("channels"),
                 help=f"{_help('channels')} — {name} has {info['default_channels']}",
                 format_func={0: "dataset's own", 1: "1 (grey)", 3: "3 (RGB)"}.get)
    st.checkbox("Random horizontal flips", key=_k("flip"), help=_help("flip"))
    fields = ("dataset", "data_path", "data_subset", "fit", "img_size", "channels", "flip")
    return {f: st.session_state[_k(f)] for f in fields}


def _number(col: Any, label: str, field: str, errors: dict[str, str], step: float, fmt: str | None = None,
            **kwargs: Any) -> None:
    """A number box with no browser-side bounds (they would clamp silently); TrainConfig checks the value."""
    with col:
        st.number_input(label, step=step, format=fmt, key=_k(field), help=kwargs.pop("help", _help(field)), **kwargs)
        field_error(field, errors)


def model_section(errors: dict[str, str], labelled: bool = True) -> None:
    """Architecture, widths, latent size, normalisation, conditioning."""
    c1, c2 = st.columns(2)
    arch = c1.selectbox("Architecture", ARCHS, key=_k("arch"), on_change=_on_arch, help=_help("arch"))
    _number(c2, "Latent size z_dim", "z_dim", errors, 1)
    if arch == "mlp":
        with c1:
            st.text_input("MLP hidden sizes", key=_k("mlp_hidden"), help=_help("mlp_hidden"))
            field_error("mlp_hidden", errors)
        _number(c2, "D dropout", "dropout", errors, 0.05)
    else:
        _number(c1, "G width (channels)", "g_channels", errors, 8)
        _number(c2, "D width (channels)", "d_channels", errors, 8)
    c1.selectbox("D normalisation", D_NORMS, key=_k("d_norm"), help=_help("d_norm"))
    if not labelled:
        st.session_state[_k("conditional")] = False
    c2.checkbox("Class-conditional", key=_k("conditional"), disabled=not labelled,
                help=_help("conditional") if labelled else "This dataset has no class labels")


def objective_section(errors: dict[str, str]) -> None:
    """Loss, gradient penalty, D/G steps per iteration."""
    c1, c2, c3 = st.columns(3)
    loss = c1.selectbox("Loss", LOSSES, key=_k("loss"), on_change=_on_loss, help=_help("loss"))
    _number(c2, "D steps per iteration", "d_steps", errors, 1)
    _number(c3, "G steps per iteration", "g_steps", errors, 1)
    if loss == "wgan-gp":
        _number(c1, "Gradient-penalty weight λ", "gp_lambda", errors, 1.0)


def optimisation_section(errors: dict[str, str]) -> None:
    """Learning rates, Adam betas, batch size, length, EMA, seed."""
    c1, c2, c3, c4 = st.columns(4)
    _number(c1, "G learning rate", "lr_g", errors, 1e-5, "%.5f")
    _number(c2, "D learning rate", "lr_d", errors, 1e-5, "%.5f")
    _number(c3, "Adam β1", "beta1", errors, 0.1, "%.3f")
    _number(c4, "Adam β2", "beta2", errors, 0.001, "%.3f")
    _number(c1, "Batch size", "batch_size", errors, 16)
    _number(c2, "Epochs", "epochs", errors, 0.5)
    _number(c3, "Max steps (0 = use epochs)", "max_steps", errors, 100)
    _number(c4, "G EMA decay (0 = off)", "ema", errors, 0.001, "%.4f")
    _number(c1, "Seed", "seed", errors, 1)
    _number(c2, "Max minutes (0 = no time limit)", "max_minutes", errors, 1.0, "%.1f")
    _number(c3, "EMA ramp-up (0 = fixed warm-up)", "ema_rampup", errors, 0.01, "%.3f")


def hardware_section(errors: dict[str, str]) -> int:
    """Device and precision pickers that offer only what this machine can run. With several GPUs a run may also
    use several (torchrun); returns that number of devices (1 otherwise)."""
    devices = ["auto", *available_devices()]
    if st.session_state[_k("device")] not in devices:
        st.session_state[_k("device")] = "auto"
    gpus = cuda_device_count()
    c1, c2, c3 = st.columns(3)
    auto_device = devices[1]
    labels = {"auto": f"auto ({auto_device})", "cuda": "cuda (any free GPU)" if gpus > 1 else "cuda"}
    device = c1.selectbox("Device", devices, key=_k("device"), format_func=lambda d: labels.get(d, d),
                          help=_help("device"))
    precisions = ["auto", *supported_precisions(resolve_device(device))]
    if st.session_state[_k("precision")] not in precisions:
        st.session_state[_k("precision")] = "auto"
    c2.selectbox("Precision", precisions, key=_k("precision"), help=_help("precision"))
    _number(c3, "CPU threads (0 = all)", "threads", errors, 1)
    if gpus < 2:
        return 1
    count = c1.number_input("Devices for this run", min_value=1, max_value=gpus, step=1, key=state.DEVICES,
                            help="2 or more: one run on GPUs 0 to N-1, launched through torchrun (one process per "
                                 "GPU, DistributedDataParallel); it shows on the Runs page like a run from a terminal.")
    return int(count)


def logging_section(errors: dict[str, str]) -> None:
    """How often to log, sample, checkpoint and measure quality; the run's name."""
    c1, c2, c3 = st.columns(3)
    _number(c1, "Log every (steps)", "log_every", errors, 5)
    _number(c2, "Sample grid every (steps)", "sample_every", errors, 50)
    _number(c3, "Checkpoint every (steps)", "checkpoint_every", errors, 100)
    _number(c1, "Step checkpoints kept", "keep_checkpoints", errors, 1)
    _number(c2, "Images per grid", "num_samples", errors, 8)
    _number(c3, "Quality (FID) every (0 = off)", "quality_every", errors, 100)
    st.text_input("Run name (optional)", key=_k("name"))
    field_error("name", errors)


def augmentation_section(errors: dict[str, str]) -> None:
    """Augmentation of everything D sees (real and fake alike): the remedy when a folder holds few images."""
    c1, c2 = st.columns([1, 2])
    method = c1.selectbox("Augment what D sees", AUGMENTS, key=_k("augment"), help=_help("augment"),
                          format_func={"off": "off", "diffaugment": "DiffAugment", "ada": "ADA (adaptive)"}.get)
    if method != "off":
        with c2:
            st.text_input("Parts (empty = the method's default)", key=_k("augment_parts"),
                          placeholder="color,translation,cutout" + (",flip,rotate90" if method == "ada" else ""),
                          help=_help("augment_parts"))
            field_error("augment_parts", errors)
    if method == "ada":
        a1, a2, a3 = st.columns(3)
        _number(a1, "ADA target r_t", "ada_target", errors, 0.05)
        _number(a2, "ADA adjust every (iterations)", "ada_interval", errors, 1)
        _number(a3, "ADA speed (kimg from p=0 to 1)", "ada_kimg", errors, 10.0)


def start_from_section(errors: dict[str, str], sources: dict[str, str]) -> None:
    """Start from a trained generator (and its D when it has one), optionally freezing D's first layers."""
    options = ["", *sources]
    if st.session_state.get(_k("init_from")) not in options:  # a path typed in the CLI or a run since deleted
        options.append(st.session_state.get(_k("init_from")) or "")
    c1, c2 = st.columns([2, 1])
    with c1:
        st.selectbox("Start from", options, key=_k("init_from"), help=_help("init_from"),
                     format_func=lambda v: "scratch (random weights)" if not v else sources.get(v, v))
        field_error("init_from", errors)
    if st.session_state.get(_k("init_from")):
        _number(c2, "Freeze D's first layers (FreezeD)", "freeze_d", errors, 1)


def start_from_choices() -> dict[str, str]:
    """{init_from value: label}: the shipped models (by name) and every run's latest checkpoint (by path)."""
    from ganlab.runs import list_pretrained, list_runs

    choices = {str(card["name"]): f"shipped model {card['name']} ({card.get('dataset', '?')})"
               for card in list_pretrained() if card.get("name")}
    for run in list_runs():
        if run.latest_checkpoint is not None:
            choices[str(run.latest_checkpoint)] = f"run {run.display_name} (latest checkpoint)"
    return choices
