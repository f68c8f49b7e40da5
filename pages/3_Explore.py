"""Explore page: latent explorer for a pretrained generator or a run checkpoint, plus GIF/MP4 export."""

from __future__ import annotations

import streamlit as st

from ganlab import media
from ganlab.explore import (
    MAX_GRID,
    MAX_KEYFRAMES,
    LoadedGenerator,
    export_bundle,
    interpolation_frames,
    keyframes,
    latent_point,
    parse_seeds,
)
from ganlab.runs import is_live, list_runs
from ui import explore
from ui.sidebar import page
from ui.state import keep_valid
from ui.widgets import png_download, show_error, show_grid

KIND, RUN, CKPT, EMA = "explore.kind", "explore.run", "explore.ckpt", "explore.ema"
SEED, TRUNC, CLASS, GRID = "explore.seed", "explore.truncation", "explore.class", "explore.grid_seeds"
DIM, PC, DIM_PAGE = "explore.dim.", "explore.pc.", "explore.dim_page"
OFFSETS, LAST_GEN = "explore.offsets", "explore.last_gen"  # {dimension: offset}; the generator they belong to
CURRENT = "explore.current"  # {"gen": GenKey, "z": list[float], "label": int | None}: the slider point
EXPORT = "explore.export"  # the last built animation (bundle of export_bundle + its GenKey)
N_DIMS, N_PCS = 8, 6  # slider counts (capped by z_dim)
MAX_UI_SEED = 2**53 - 1  # browsers hold numbers as doubles; larger seeds work in the seed lists
PRETRAINED, RUN_CKPT = "Pretrained", "Run checkpoint"


def _reset_sliders() -> None:
    st.session_state[OFFSETS] = {}
    for name in list(st.session_state):
        if isinstance(name, str) and (name.startswith(DIM) or name.startswith(PC)):
            st.session_state[name] = 0.0


def pick_generator() -> explore.GenKey | None:
    """Source widgets -> GenKey of a checkpoint file (None when nothing can be explored)."""
    pretrained = explore.pretrained_models()
    runs = [r for r in list_runs() if explore.run_checkpoints(r)]
    kinds = ([PRETRAINED] if pretrained else []) + ([RUN_CKPT] if runs else [])
    if not kinds:
        st.info("Nothing to explore yet: train a model on the **Train** page (it can be explored as soon as it "
                "saves its first checkpoint) or put `<name>.safetensors` + `<name>.json` into `pretrained/`.")
        return None
    keep_valid(KIND, kinds)
    kind = st.radio("Generator", kinds, horizontal=True, key=KIND)
    if kind == PRETRAINED:
        names = list(pretrained)
        keep_valid("explore.pretrained", names)
        path = pretrained[st.selectbox("Model", names, key="explore.pretrained")]
    else:
        by_id = {r.id: r for r in runs}
        keep_valid(RUN, list(by_id))
        left, right = st.columns([2, 1])
        run = by_id[left.selectbox("Run", list(by_id), key=RUN, format_func=lambda i: by_id[i].display_name)]
        checkpoints = explore.run_checkpoints(run)
        keep_valid(CKPT, list(checkpoints))
        path = checkpoints[right.selectbox("Checkpoint", list(checkpoints), key=CKPT)]
        if is_live(run):
            st.info("This run is still training. You explore its saved checkpoint, never the live model; "
                    "newer weights load automatically once a newer checkpoint is written.")
    use_ema = st.toggle("EMA weights", value=True, key=EMA,
                        help="The moving average of G (smoother samples), when the run trained with ema > 0.")
    return explore.GenKey.of(path, use_ema)


def _loaded(key: explore.GenKey) -> LoadedGenerator | None:
    """The cached generator; None (with the fix shown) if its file vanished since it was picked."""
    try:
        return explore.load_cached(key)
    except ValueError as exc:
        show_error(exc, hint="The checkpoint was deleted or replaced: pick the generator again above.")
        return None


def _offsets(z_dim: int) -> list[float]:
    """Every latent dimension's offset (a slider's value survives while its page of sliders is not shown)."""
    stored = st.session_state.setdefault(OFFSETS, {})
    return [float(stored.get(i, 0.0)) for i in range(z_dim)]


def _remember_offset(i: int) -> None:
    st.session_state.setdefault(OFFSETS, {})[i] = float(st.session_state[f"{DIM}{i}"])


def _forget_sliders_if_the_model_changed(key: explore.GenKey) -> None:
    """Offsets belong to one generator: another one starts from its seed's own point."""
    if st.session_state.get(LAST_GEN) not in (None, key):
        st.session_state[OFFSETS] = {}
        _reset_sliders()
    st.session_state[LAST_GEN] = key


def _dimension_sliders(z_dim: int) -> None:
    pages = [(start, min(start + N_DIMS, z_dim)) for start in range(0, z_dim, N_DIMS)]
    start, stop = st.selectbox("Dimensions", pages, key=DIM_PAGE, format_func=lambda p: f"z[{p[0]}] – z[{p[1] - 1}]",
                               help=f"All {z_dim} latent dimensions, {N_DIMS} sliders at a time; offsets on other "
                                    "pages stay applied.")
    stored = st.session_state.setdefault(OFFSETS, {})
    for i in range(start, stop):
        st.session_state.setdefault(f"{DIM}{i}", float(stored.get(i, 0.0)))
        st.slider(f"z[{i}] offset", -3.0, 3.0, step=0.1, key=f"{DIM}{i}", on_change=_remember_offset, args=(i,))
    moved = sum(1 for v in stored.values() if v)
    st.caption(f"{moved} dimension(s) moved" if moved else "No dimension moved yet.")


def _pca_sliders(key: explore.GenKey, loaded: LoadedGenerator, label: int | None, seed: int,
                 truncation: float) -> tuple[list[float], object, object]:
    """A slider per principal direction, each labelled with what it does: a strip from -2σ to +2σ."""
    try:
        directions, stds = explore.principal_directions(key, label, min(N_PCS, loaded.model_config.z_dim))
    except (ValueError, RuntimeError) as exc:
        show_error(exc, hint="This generator has no first stage to analyse; use the latent dimensions instead.")
        return [], None, None
    strips = explore.direction_strips(key, label, seed, truncation, directions.shape[0])
    sigmas = []
    for i in range(directions.shape[0]):
        sigmas.append(st.slider(f"PC {i + 1} (σ)", -5.0, 5.0, 0.0, 0.25, key=f"{PC}{i}"))
        st.image(strips[i], caption=f"PC {i + 1} from −2σ to +2σ", width="stretch")
    return sigmas, directions, stds


@st.fragment
def explorer(key: explore.GenKey) -> None:
    """The image first, its controls beside it in tabs (seed, every latent dimension, labelled PCA directions)."""
    loaded = _loaded(key)
    if loaded is None:
        return
    mc = loaded.model_config
    _forget_sliders_if_the_model_changed(key)
    view, controls = st.columns([1, 1], gap="medium")
    with controls:
        seed_tab, dims_tab, pca_tab = st.tabs(["Seed", "Latent dimensions", "Principal directions"])
        with seed_tab:
            seed = int(st.number_input("Seed", 0, MAX_UI_SEED, 0, step=1, key=SEED))
            truncation = st.slider("Truncation", 0.0, 1.0, 1.0, 0.05, key=TRUNC,
                                   help="Scales z toward 0: lower = more typical, less varied images.")
            label = None
            if mc.conditional:
                names = list(loaded.class_names) or [str(i) for i in range(mc.num_classes)]
                label = st.selectbox("Class", range(mc.num_classes), key=CLASS,
                                     format_func=lambda i: names[i] if i < len(names) else str(i))
            st.button("Reset sliders", on_click=_reset_sliders, key="explore.reset")
        with dims_tab:
            _dimension_sliders(mc.z_dim)
        with pca_tab:
            st.caption("Directions of largest variation in G's first stage, mapped back to z (GANSpace).")
            sigmas, directions, stds = _pca_sliders(key, loaded, label, seed, truncation)
    z = latent_point(seed, mc.z_dim, truncation, _offsets(mc.z_dim), sigmas, directions, stds)
    with view, st.container(key="explore_view"):
        image = media.to_pil(loaded.generate(z, label)[0])  # from (C, H, W) uint8
        show_grid(image, caption=f"seed {seed}", min_width=320)
        png_download(image, f"ganlab-seed-{seed}.png", key="explore.dl_image", label="Download image (PNG)",
                     min_width=320)
    st.session_state[CURRENT] = {"gen": key, "z": z.tolist(), "label": label}

    grid_tab, sweep_tab = st.tabs(["Seed grid", "Dimension sweep"])
    with grid_tab:
        text = st.text_input("Seed grid", "0-15", key=GRID, help="Seeds and ranges, e.g. 0-15 or 3,7,42-45.")
        try:
            seeds = parse_seeds(text, max_count=MAX_GRID)
            grid = loaded.seed_grid(seeds, truncation=truncation, labels=label)
        except ValueError as exc:
            show_error(exc, hint=f"Type up to {MAX_GRID} seeds like 0-15 or 3,7,42.")
        else:
            show_grid(grid, caption=f"seeds {text.strip()} (row by row) at truncation {truncation:g}", min_width=512)
            png_download(grid, "ganlab-seed-grid.png", key="explore.dl_grid", label="Download grid (PNG)",
                         min_width=512)
    with sweep_tab:
        explore.sweep_panel(loaded, z, label, directions, stds)


@st.fragment
def interpolation(key: explore.GenKey) -> None:
    """Keyframes -> frames -> preview and GIF / MP4 / zip downloads."""
    loaded = _loaded(key)
    if loaded is None:
        return
    mc = loaded.model_config
    st.subheader("Interpolation")
    left, right = st.columns(2)
    with left:
        seeds_text = st.text_input("Keyframe seeds", "0,1,2,3", key="explore.key_seeds",
                                   help="The path visits these seeds in order.")
        use_current = st.checkbox("Start at the current slider point", key="explore.use_current")
        mode = st.radio("Path", ["slerp", "lerp"], horizontal=True, key="explore.mode",
                        help="slerp keeps |z| typical for Gaussian latents; lerp passes closer to the mean.")
        pingpong = st.checkbox("Ping-pong (there and back)", key="explore.pingpong")
        loop = st.checkbox("Loop back to the first keyframe", key="explore.loop", disabled=pingpong)
    with right:
        frames = st.slider("Frames", 2, 240, 32, key="explore.frames")
        fps = st.slider("Frames per second", 1, 50, 12, key="explore.fps")
        side = st.select_slider("Size (pixels per side)", [64, 128, 256, 512], 256, key="explore.side")
    if st.button("Build animation", type="primary", key="explore.build", icon=":material/movie:"):
        try:
            seeds = parse_seeds(seeds_text, max_count=MAX_KEYFRAMES)
            current = st.session_state.get(CURRENT)
            here = current if current and current["gen"] == key else None
            keys = keyframes(seeds, mc.z_dim, truncation=float(st.session_state.get(TRUNC, 1.0)),
                             start=here["z"] if here and use_current else None)  # (K, z_dim)
            with st.spinner(f"Rendering {frames} frames…"):
                images = interpolation_frames(loaded, keys, int(frames), mode=mode, loop=loop and not pingpong,
                                              pingpong=pingpong, labels=here["label"] if here else None,
                                              min_side=int(side))
                st.session_state[EXPORT] = {**export_bundle(images, float(fps)), "gen": key}
        except ValueError as exc:
            show_error(exc, hint=f"Give 1 to {MAX_KEYFRAMES} keyframe seeds like 0,1,2.")
    bundle = st.session_state.get(EXPORT)
    if not bundle or bundle["gen"] != key:
        st.caption("Build an animation to preview and download it.")
        return
    w, h = bundle["size"]
    st.image(bundle["gif"], caption=f"{bundle['frames']} frames at {bundle['fps']:g} fps, {w}×{h}")
    st.image(bundle["preview"], width=96)
    cols = st.columns(3)
    cols[0].download_button("Download GIF", bundle["gif"], "ganlab-morph.gif", "image/gif",
                            key="explore.dl_gif", on_click="ignore", icon=":material/download:")
    if bundle["mp4"] is not None:
        cols[1].download_button("Download MP4", bundle["mp4"], "ganlab-morph.mp4", "video/mp4",
                                key="explore.dl_mp4", on_click="ignore", icon=":material/download:")
    else:
        cols[1].caption("MP4 export needs `pip install imageio-ffmpeg`.")
    cols[2].download_button("Download frames (zip)", bundle["zip"], "ganlab-frames.zip", "application/zip",
                            key="explore.dl_zip", on_click="ignore", icon=":material/download:")


page("Explore")
st.title("Explore")
try:
    gen_key = pick_generator()
    gen = explore.load_cached(gen_key) if gen_key else None
except ValueError as exc:  # CheckpointError and a vanished file are ValueErrors with the reason
    show_error(exc, hint="Pick another checkpoint or model; a run's checkpoint appears after its first save.")
    gen_key = gen = None
if gen_key is not None and gen is not None:
    mc = gen.model_config
    weights = "EMA" if gen.used_ema else "raw"
    classes = f"{mc.num_classes} classes" if mc.conditional else "unconditional"
    st.caption(f"{mc.arch} · {mc.img_size}px · {mc.img_channels} channel(s) · z {mc.z_dim} · {classes} · "
               f"step {gen.step:,} · {weights} weights")
    if gen_key.use_ema and not gen.used_ema:
        st.caption("This checkpoint has no EMA weights (train with ema > 0 to get them); showing G itself.")
    explorer(gen_key)
    st.divider()
    interpolation(gen_key)
