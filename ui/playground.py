"""Playground widgets and session state: data and model pickers -> ToyConfig, the trainer, controls, live view."""

from __future__ import annotations

import base64
import math
from typing import Any

import streamlit as st

from ganlab.metrics.alarm import mode_alarm
from ganlab.toy import NOISES, OPTIMIZERS, TOY_LOSSES, TOY_PRESETS, ToyConfig, ToyTrainer, parse_points_csv
from ganlab.toy.divergence import known_modes, modes_covered
from ganlab.toy.points import list_toy2d, toy2d_descriptions
from ui import playground_figures as figures
from ui.playground_image import field_png
from ui.widgets import show_error

P = "playground."
TRAINER, PLAYING, DRAWN, NOTICE = P + "trainer", P + "playing", P + "drawn", P + "notice"
PRESET, SOURCE, DIST, UPLOAD, CANVAS = P + "preset", P + "source", P + "distribution", P + "upload", P + "canvas"
SPEED, SHOW, FIELD = P + "speed", P + "show", P + "field"  # FIELD: the heat-map chart's stable key (e2e hook)
BUILT_IN, DRAW, CSV = "Built-in", "Draw", "Upload CSV"
CUSTOM_PRESET = "(your own settings)"
TICK_SECONDS = 0.25  # refresh period of the plane while playing; each refresh runs `speed` iterations
CURVES_SECONDS = 1.5  # the loss and divergence curves refresh less often (re-sent plotly charts blink)
LRS = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1)
WIDTHS = (4, 8, 16, 32, 64, 128, 256)
BATCHES = (32, 64, 128, 256, 512, 1024)
LOSS_LABELS = {"bce": "BCE (non-saturating)", "lsgan": "LSGAN (least squares)", "wgan-gp": "WGAN-GP"}
DEFAULTS: dict[str, Any] = {  # widget key (after P) -> initial value, the ToyConfig defaults in widget form
    "source": BUILT_IN, "distribution": "ring", "z_dim": 2, "noise": "gaussian", "g_layers": 2, "g_width": 64,
    "d_layers": 2, "d_width": 64, "loss": "bce", "gp_lambda": 10.0, "optimizer": "adam", "lr_g": 1e-3,
    "lr_d": 1e-3, "d_steps": 1, "g_steps": 1, "batch": 256, "seed": 0, "speed": 8,
}


def init_state() -> None:
    """Widget values from session state (defaults on the first run), so presets can write into the widgets' keys."""
    values = {**{P + name: value for name, value in DEFAULTS.items()}, SHOW: list(figures.LAYERS), PRESET: CUSTOM_PRESET}
    for key, default in values.items():
        # Re-assigning makes the value user state, which Streamlit keeps through runs that do not draw the widget
        # (no data yet, so the controls are skipped; another page): otherwise speed and layers fall to the minimum.
        st.session_state[key] = st.session_state[key] if key in st.session_state else default
    st.session_state.setdefault(DRAWN, [])
    st.session_state.setdefault(PLAYING, False)


def _apply_preset() -> None:
    values = TOY_PRESETS.get(st.session_state[PRESET])
    if values is None:
        return
    for name in ("distribution", "z_dim", "noise", "loss", "gp_lambda", "optimizer", "lr_g", "lr_d", "d_steps",
                 "g_steps", "batch", "seed"):
        st.session_state[P + name] = values.get(name, DEFAULTS[name])
    for net in ("g", "d"):
        hidden = values.get(f"{net}_hidden", (64, 64))
        st.session_state[f"{P}{net}_layers"], st.session_state[f"{P}{net}_width"] = len(hidden), max(hidden)
    st.session_state[SOURCE] = BUILT_IN
    st.session_state[PLAYING] = False  # a preset starts from fresh weights: press Play to watch it


def preset_picker() -> None:
    names = [CUSTOM_PRESET, *TOY_PRESETS]
    st.selectbox("Preset", names, key=PRESET, on_change=_apply_preset,
                 help="Classic behaviours: pick one, then press Play. Changing any setting afterwards is fine.")


def _add_selection() -> None:
    new = figures.selected_points(st.session_state.get(CANVAS))
    st.session_state[DRAWN] = list(dict.fromkeys([*st.session_state[DRAWN], *new]))  # keep order, drop repeats


def data_picker() -> tuple[str, tuple[tuple[float, float], ...] | None] | None:
    """(distribution, points or None); None after showing why there is no data yet."""
    source = st.radio("Data", (BUILT_IN, DRAW, CSV), key=SOURCE, horizontal=True)
    if source == BUILT_IN:
        names = [n for n in list_toy2d() if n != "custom"]
        descriptions = toy2d_descriptions()
        name = st.selectbox("Distribution", names, key=DIST, format_func=lambda n: f"{n}: {descriptions[n]}")
        return name, None
    if source == DRAW:
        st.caption("Click points, or drag a box or lasso over the grid to add them (the toolbar switches mode).")
        st.plotly_chart(figures.canvas_figure(st.session_state[DRAWN]), key=CANVAS, on_select=_add_selection,
                        selection_mode=("points", "box", "lasso"), config={"displaylogo": False})
        drawn = st.session_state[DRAWN]
        left, right = st.columns([3, 1])
        left.caption(f"{len(drawn)} points drawn")
        if right.button("Clear", key=P + "clear_drawn", icon=":material/ink_eraser:", disabled=not drawn):
            st.session_state[DRAWN] = []
            st.rerun()
        if not drawn:
            st.info("Draw some points on the canvas to train on them.")
            return None
        return "custom", tuple(drawn)
    upload = st.file_uploader("CSV with x,y columns", type=["csv", "txt"], key=UPLOAD,
                              help="One point per line; a header row naming x and y is optional.")
    if upload is None:
        st.info("Upload a CSV file with one point per line (x,y), e.g. exported from a spreadsheet.")
        return None
    try:
        points = parse_points_csv(upload.getvalue())
    except ValueError as exc:
        show_error(exc, hint="Give two numeric columns named x and y (or no header at all), one point per line.")
        return None
    st.caption(f"{len(points)} points from {upload.name}")
    return "custom", tuple(map(tuple, points.tolist()))


def _lr_label(lr: float) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")


def model_form() -> dict[str, Any]:
    """Network, objective and optimisation widgets -> ToyConfig keyword values (not yet validated)."""
    g, d = st.columns(2)
    for col, net, title in ((g, "g", "Generator"), (d, "d", "Discriminator")):
        col.markdown(f"**{title}**")
        col.slider("Hidden layers", 1, 6, key=f"{P}{net}_layers")
        col.select_slider("Width", WIDTHS, key=f"{P}{net}_width")
        col.select_slider("Learning rate", LRS, key=f"{P}lr_{net}", format_func=_lr_label)
        col.slider(f"{title[0]} steps per iteration", 1, 10, key=f"{P}{net}_steps")
    g.radio("Noise dimension", (1, 2), key=P + "z_dim", horizontal=True,
            help="1: G bends a line into the data; 2: G folds a plane.")
    g.radio("Noise distribution", NOISES, key=P + "noise", horizontal=True)
    loss = d.selectbox("Loss", TOY_LOSSES, key=P + "loss", format_func=LOSS_LABELS.get)
    d.number_input("Gradient penalty weight λ", 0.0, 1000.0, key=P + "gp_lambda", step=1.0,
                   disabled=loss != "wgan-gp", help="Only used by WGAN-GP.")
    o1, o2, o3 = st.columns(3)
    o1.selectbox("Optimizer", OPTIMIZERS, key=P + "optimizer")
    o2.select_slider("Batch size", BATCHES, key=P + "batch")
    o3.number_input("Seed", 0, 2**31 - 1, key=P + "seed", help="Same seed, same run: weights, noise, batches.")
    s = st.session_state
    return dict(
        z_dim=int(s[P + "z_dim"]), noise=s[P + "noise"], loss=loss, gp_lambda=float(s[P + "gp_lambda"]),
        g_hidden=(int(s[P + "g_width"]),) * int(s[P + "g_layers"]),
        d_hidden=(int(s[P + "d_width"]),) * int(s[P + "d_layers"]),
        optimizer=s[P + "optimizer"], lr_g=float(s[P + "lr_g"]), lr_d=float(s[P + "lr_d"]),
        d_steps=int(s[P + "d_steps"]), g_steps=int(s[P + "g_steps"]), batch=int(s[P + "batch"]),
        seed=int(s[P + "seed"]),
    )


def build_config(data: tuple[str, Any], model: dict[str, Any]) -> ToyConfig | None:
    """A validated ToyConfig, or None after showing the message."""
    try:
        return ToyConfig(distribution=data[0], points=data[1], **model)
    except ValueError as exc:
        show_error(exc)
        return None


def ensure_trainer(config: ToyConfig) -> ToyTrainer:
    """This tab's trainer for config: kept as is, updated live (learning rates, steps) or rebuilt."""
    trainer: ToyTrainer | None = st.session_state.get(TRAINER)
    if trainer is None or (trainer.config != config and not trainer.update(config)):
        if trainer is not None and trainer.iteration + trainer.d_updates + trainer.g_updates > 0:
            st.session_state[NOTICE] = "Data or network settings changed: training restarted from fresh weights."
        trainer = ToyTrainer(config)
        st.session_state[TRAINER] = trainer
    return trainer


# ---- controls (callbacks: they run before the script, so the view drawn afterwards already shows the result)
def _act(action: str) -> None:
    trainer: ToyTrainer = st.session_state[TRAINER]
    if action == "play":
        st.session_state[PLAYING] = True
    elif action == "pause":
        st.session_state[PLAYING] = False
    elif action == "reset":
        st.session_state[TRAINER] = ToyTrainer(trainer.config)
        st.session_state[PLAYING] = False
    else:
        _guarded(lambda: {"step": trainer.step, "step_d": trainer.step_d, "step_g": trainer.step_g}[action]())


def _guarded(fn: Any) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a diverged model must pause with a message, never a traceback
        st.session_state[PLAYING] = False
        st.session_state[NOTICE] = f"Training stopped: {exc}"


def controls() -> None:
    playing = st.session_state[PLAYING]
    cols = st.columns([1, 1, 1, 1, 1, 1, 3], vertical_alignment="bottom")
    buttons = (("play", "Play", ":material/play_arrow:", playing), ("pause", "Pause", ":material/pause:", not playing),
               ("step", "Step", ":material/skip_next:", False), ("step_d", "Step D", ":material/looks_one:", False),
               ("step_g", "Step G", ":material/looks_two:", False), ("reset", "Reset", ":material/restart_alt:", False))
    for col, (action, label, icon, disabled) in zip(cols, buttons):
        col.button(label, key=P + action, icon=icon, on_click=_act, args=(action,), disabled=disabled,
                   type="primary" if action == "play" else "secondary", width="stretch",
                   help={"step": "One iteration: D steps, then G steps", "step_d": "One discriminator update only",
                         "step_g": "One generator update only"}.get(action))
    cols[-1].slider("Speed (iterations per refresh)", 1, 50, key=SPEED)


def _diverged(trainer: ToyTrainer) -> bool:
    last = trainer.history[-1] if trainer.history else {}
    return any(isinstance(v, float) and not math.isfinite(v) for k, v in last.items() if k.startswith("loss"))


def _field_body() -> None:
    """The plane and its numbers: trains `speed` iterations per refresh while playing."""
    trainer: ToyTrainer = st.session_state[TRAINER]
    playing = st.session_state[PLAYING]
    if playing:
        _guarded(lambda: trainer.run(st.session_state[SPEED]))
        if _diverged(trainer):
            st.session_state[PLAYING] = False
            st.session_state[NOTICE] = ("The losses became NaN (training diverged): lower the learning rates "
                                        "and press Reset.")
        if not st.session_state[PLAYING]:
            st.rerun(scope="app")  # stop the timer: only a full run can re-register the fragment without it
    div = trainer.record_divergences() if not _diverged(trainer) else {"kl": math.nan, "js": math.nan}
    m = st.columns(5)
    m[0].metric("Iteration", f"{trainer.iteration:,}")
    m[1].metric("D / G updates", f"{trainer.d_updates:,} / {trainer.g_updates:,}")
    m[2].metric("KL(real ‖ gen)", f"{div['kl']:.3f}")
    m[3].metric("JS", f"{div['js']:.3f}", help="0 = same densities; ln 2 ≈ 0.693 = no overlap at all")
    centres = known_modes(trainer.config.distribution)
    if centres is not None:
        covered = modes_covered(trainer.generated(1000), centres, radius=0.2)
        m[4].metric("Modes covered", f"{covered} / {len(centres)}",
                    help="Modes holding at least 2% of the generated points within 0.2 of their centre")
        alarm = mode_alarm(covered, len(centres)) if trainer.iteration >= ALARM_AFTER else None
        if alarm:  # the image runs' collapse alarm, in the same words
            st.warning(f"{alarm['message']} {alarm['try']}", icon=":material/warning:")
    layers = st.session_state[SHOW]
    with st.container(key=P + "view"):
        if playing:  # an image swaps in place several times a second; pause for the hoverable chart
            # Inline (a data URI): the new picture replaces the old in one paint, with no fetch in between.
            data = base64.b64encode(field_png(trainer, layers)).decode()
            st.html(f'<img alt="the plane" width="560" height="560" src="data:image/png;base64,{data}">')
            st.caption("Green: D says real · purple: D says generated · dots: real (green) and generated (purple) "
                       "· lines: G's manifold · arrows: where G's gradient moves its samples. Pause to hover.")
        else:
            st.plotly_chart(figures.field_figure(trainer, layers), key=FIELD, config={"displaylogo": False})


ALARM_AFTER = 200  # iterations: an untrained G covers few modes without having collapsed


def _curves_body() -> None:
    trainer: ToyTrainer = st.session_state[TRAINER]
    losses, divergences = figures.history_figures(trainer)
    st.plotly_chart(losses, key=P + "losses")
    st.plotly_chart(divergences, key=P + "divergences")


def live_view() -> None:
    """The plane (refreshed every TICK_SECONDS while playing) beside the curves (every CURVES_SECONDS)."""
    st.pills("Show", figures.LAYERS, selection_mode="multi", key=SHOW)
    playing = st.session_state[PLAYING]
    view, curves = st.columns([3, 2], gap="medium")
    with view:
        st.fragment(_field_body, run_every=TICK_SECONDS if playing else None)()
    with curves:
        st.fragment(_curves_body, run_every=CURVES_SECONDS if playing else None)()
