"""Widgets -> TrainConfig: one keyed widget per config field, presets and per-architecture defaults."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ganlab import data
from ganlab.config import (
    ARCH_RECIPES,
    ARCHS,
    D_NORMS,
    DCGAN_SIZES,
    FITS,
    LOSS_RECIPES,
    LOSSES,
    PRESETS,
    ConfigError,
    TrainConfig,
    field_help,
)
from ganlab.device import available_devices, cuda_device_count, resolve_device, supported_precisions
from ganlab.nets import check_config_size
from ui import state
from ui.widgets import show_error

SAVED = "cfg.__saved__"  # plain dict copy of the form: widget keys are dropped when their page is not shown
UPLOAD = "cfg.__upload__"
UPLOAD_LIMIT_MB = 1024
FIELDS = list(TrainConfig.__dataclass_fields__)  # declaration order = form order

FLOAT_FIELDS = {"epochs", "ema", "gp_lambda", "lr_g", "lr_d", "beta1", "beta2", "dropout"}


def _widget_value(field: str, value: Any) -> Any:
    """Config value -> the type its widget holds (text for layer lists, float for float inputs)."""
    if field == "mlp_hidden":
        return ",".join(str(int(v)) for v in value)
    if field in FLOAT_FIELDS:
        return float(value)
    return value


def init_state(defaults: TrainConfig | None = None) -> None:
    """Give every field widget a value before it is drawn: last used, else the defaults."""
    saved = st.session_state.setdefault(SAVED, {})
    base = (defaults or TrainConfig()).to_dict()
    for field in FIELDS:
        key = state.form_key(field)
        if key not in st.session_state:
            st.session_state[key] = saved.get(field, _widget_value(field, base[field]))


def set_values(values: dict[str, Any]) -> None:
    """Write config values into the widgets (use from callbacks, which run before widgets are drawn)."""
    saved = st.session_state.setdefault(SAVED, {})
    for field, value in values.items():
        st.session_state[state.form_key(field)] = saved[field] = _widget_value(field, value)


def _apply_preset() -> None:
    name = st.session_state.get(state.PRESET)
    if name in PRESETS:
        set_values(PRESETS[name].values)


# Choosing an architecture or a loss loads its recipe from ganlab.config (the CLI applies the same).
def _on_arch() -> None:
    set_values(ARCH_RECIPES.get(st.session_state[state.form_key("arch")], {}))


def _on_loss() -> None:
    set_values(LOSS_RECIPES.get(st.session_state[state.form_key("loss")], {}))


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
    set_values({"dataset": "folder", "data_path": str(folder)})
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


def dataset_section() -> dict[str, Any]:
    """Dataset source, path or upload, subset, image size, channels, flips."""
    names = data.list_datasets()
    if st.session_state[_k("dataset")] not in names:
        st.session_state[_k("dataset")] = names[0]
    name = st.selectbox("Dataset", names, key=_k("dataset"), help=_help("dataset"))
    info = data.dataset_info(name)
    st.caption(info["description"])
    if name == "zip":
        st.file_uploader(f"Upload a .zip of images (up to {UPLOAD_LIMIT_MB} MB)", type=["zip"], key=UPLOAD,
                         on_change=_on_upload, max_upload_size=UPLOAD_LIMIT_MB)
    if info["needs_path"]:
        st.text_input("Zip file path" if name == "zip" else "Image folder path", key=_k("data_path"),
                      placeholder="/path/to/images", help="A folder of images (subfolders become classes)")
        st.radio("Make images square by", FITS, key=_k("fit"), horizontal=True, help=_help("fit"),
                 format_func={"crop": "cropping the centre", "pad": "padding the whole image"}.get)
    else:
        st.session_state[_k("data_path")] = ""
    subsets = info["subsets"]
    if subsets:
        if st.session_state[_k("data_subset")] not in subsets:
            st.session_state[_k("data_subset")] = info.get("default_subset") or subsets[0]
        st.selectbox("Subset", subsets, key=_k("data_subset"), help=_help("data_subset"))
    else:
        st.session_state[_k("data_subset")] = ""
    c1, c2 = st.columns(2)
    c1.selectbox("Image size (px)", DCGAN_SIZES, key=_k("img_size"), help=_help("img_size"))
    c2.selectbox("Channels", (0, 1, 3), key=_k("channels"), help=_help("channels"),
                 format_func=lambda c: {0: f"dataset's own ({info['default_channels']})", 1: "1 (grey)",
                                        3: "3 (RGB)"}[c])
    st.checkbox("Random horizontal flips", key=_k("flip"), help=_help("flip"))
    fields = ("dataset", "data_path", "data_subset", "fit", "img_size", "channels", "flip")
    return {f: st.session_state[_k(f)] for f in fields}


def model_section(labelled: bool = True) -> None:
    """Architecture, widths, latent size, normalisation, conditioning."""
    c1, c2 = st.columns(2)
    arch = c1.selectbox("Architecture", ARCHS, key=_k("arch"), on_change=_on_arch, help=_help("arch"))
    c2.number_input("Latent size z_dim", min_value=1, max_value=4096, step=1, key=_k("z_dim"))
    if arch == "mlp":
        c1.text_input("MLP hidden sizes", key=_k("mlp_hidden"), help=_help("mlp_hidden") or
                      "Comma-separated layer sizes of G (D uses them reversed), e.g. 256,512,1024")
        c2.number_input("D dropout", min_value=0.0, max_value=0.95, step=0.05, key=_k("dropout"))
    else:
        c1.number_input("G width (channels)", min_value=1, max_value=2048, step=8, key=_k("g_channels"),
                        help=_help("g_channels"))
        c2.number_input("D width (channels)", min_value=1, max_value=2048, step=8, key=_k("d_channels"),
                        help=_help("d_channels"))
    c1.selectbox("D normalisation", D_NORMS, key=_k("d_norm"), help=_help("d_norm"))
    if not labelled:
        st.session_state[_k("conditional")] = False
    c2.checkbox("Class-conditional", key=_k("conditional"), disabled=not labelled,
                help=_help("conditional") if labelled else "This dataset has no class labels")


def objective_section() -> None:
    """Loss, gradient penalty, D/G steps per iteration."""
    c1, c2, c3 = st.columns(3)
    loss = c1.selectbox("Loss", LOSSES, key=_k("loss"), on_change=_on_loss, help=_help("loss"))
    c2.number_input("D steps per iteration", min_value=1, max_value=100, step=1, key=_k("d_steps"),
                    help=_help("d_steps"))
    c3.number_input("G steps per iteration", min_value=1, max_value=100, step=1, key=_k("g_steps"),
                    help=_help("g_steps"))
    if loss == "wgan-gp":
        c1.number_input("Gradient-penalty weight λ", min_value=0.0, max_value=1e4, step=1.0, key=_k("gp_lambda"))


def optimisation_section() -> None:
    """Learning rates, Adam betas, batch size, length, EMA, seed."""
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input("G learning rate", min_value=1e-7, max_value=1.0, step=1e-5, format="%.5f", key=_k("lr_g"))
    c2.number_input("D learning rate", min_value=1e-7, max_value=1.0, step=1e-5, format="%.5f", key=_k("lr_d"))
    c3.number_input("Adam β1", min_value=0.0, max_value=0.9999, step=0.1, format="%.3f", key=_k("beta1"))
    c4.number_input("Adam β2", min_value=0.0, max_value=0.99999, step=0.001, format="%.3f", key=_k("beta2"))
    c1.number_input("Batch size", min_value=1, max_value=65536, step=16, key=_k("batch_size"))
    c2.number_input("Epochs", min_value=0.0, max_value=1e6, step=0.5, key=_k("epochs"), help=_help("epochs"))
    c3.number_input("Max steps (0 = use epochs)", min_value=0, step=100, key=_k("max_steps"),
                    help=_help("max_steps"))
    c4.number_input("G EMA decay (0 = off)", min_value=0.0, max_value=0.99999, step=0.001, format="%.4f",
                    key=_k("ema"), help=_help("ema"))
    c1.number_input("Seed", min_value=0, step=1, key=_k("seed"))


def hardware_section() -> int:
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
    c3.number_input("CPU threads (0 = all)", min_value=0, max_value=1024, step=1, key=_k("threads"))
    if gpus < 2:
        return 1
    count = c1.number_input("Devices for this run", min_value=1, max_value=gpus, step=1, key=state.DEVICES,
                            help="2 or more: one run on GPUs 0 to N-1, launched through torchrun (one process per "
                                 "GPU, DistributedDataParallel); it shows on the Runs page like a run from a terminal.")
    return int(count)


def logging_section() -> None:
    """How often to log, sample, checkpoint and measure quality; the run's name."""
    c1, c2, c3 = st.columns(3)
    c1.number_input("Log every (steps)", min_value=1, step=5, key=_k("log_every"))
    c2.number_input("Sample grid every (steps)", min_value=1, step=50, key=_k("sample_every"))
    c3.number_input("Checkpoint every (steps)", min_value=1, step=100, key=_k("checkpoint_every"))
    c1.number_input("Step checkpoints kept", min_value=0, max_value=1000, step=1, key=_k("keep_checkpoints"))
    c2.number_input("Images per grid", min_value=1, max_value=1024, step=8, key=_k("num_samples"))
    c3.number_input("Quality (FID) every (0 = off)", min_value=0, step=100, key=_k("quality_every"),
                    help=_help("quality_every"))
    st.text_input("Run name (optional)", key=_k("name"), max_chars=80)


def values() -> dict[str, Any]:
    """Current form values for every config field (also those whose widget is hidden), remembered."""
    saved = st.session_state.setdefault(SAVED, {})
    out = {f: st.session_state.get(_k(f), saved.get(f)) for f in FIELDS}
    saved.update(out)
    return out


def build_config(form_values: dict[str, Any] | None = None) -> TrainConfig | None:
    """The TrainConfig for the form, or None after showing what is wrong and how to fix it."""
    try:
        config = TrainConfig.from_dict(form_values if form_values is not None else values())
        check_config_size(config)  # networks too large to fit are refused before a job starts
        return config
    except ConfigError as exc:
        show_error(exc, hint="Change that field above and press Start again.")
        return None
