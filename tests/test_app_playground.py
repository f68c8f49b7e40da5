"""AppTest of the Playground page: render, step D / G / iteration, play-pause, reset, presets, CSV and drawn points."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from tests.helpers import open_page
from ui import playground as pg
from ui import playground_figures as F

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "4_Playground.py")
TIMEOUT = 60


def page() -> AppTest:
    at = open_page("pages/4_Playground.py", TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, key: str) -> dict[str, Any]:
    """The plotly figure (as JSON) of the chart with that key."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    assert len(found) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return json.loads(found[0].proto.spec)


def array(value: Any) -> np.ndarray:
    """A plotly JSON array: a list, or plotly 6's typed array {"dtype", "bdata" (base64), "shape"}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(s) for s in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape).astype(float)
    return np.asarray(value, dtype=float)


def heatmap(at: AppTest) -> np.ndarray:
    trace = next(t for t in chart(at, pg.FIELD)["data"] if t["type"] == "heatmap")
    return array(trace["z"])


def generated(at: AppTest) -> np.ndarray:
    trace = next(t for t in chart(at, pg.FIELD)["data"] if t.get("name") == "generated")
    return np.stack([array(trace["x"]), array(trace["y"])], 1)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_playground_smoke_renders_view_controls_and_curves():
    at = page()
    assert [b.key for b in at.button] == [pg.P + k for k in ("play", "pause", "step", "step_d", "step_g", "reset")]
    assert at.button(key=pg.P + "pause").disabled and not at.button(key=pg.P + "play").disabled
    names = {t.get("name") for t in chart(at, pg.FIELD)["data"]}
    assert {"D(x)", "real", "generated", "G(noise grid)", "G's gradient"} <= names
    assert metric(at, "Iteration") == "0" and metric(at, "Modes covered").endswith("/ 8")
    assert heatmap(at).shape == (60, 60)


def test_step_d_changes_heatmap_but_not_generated_points():
    at = page()
    field, fake = heatmap(at), generated(at)
    click(at, pg.P + "step_d")
    assert not np.array_equal(heatmap(at), field)
    assert np.array_equal(generated(at), fake)
    assert metric(at, "D / G updates") == "1 / 0" and metric(at, "Iteration") == "0"


def test_step_g_moves_generated_points_but_not_heatmap():
    at = page()
    field, fake = heatmap(at), generated(at)
    click(at, pg.P + "step_g")
    assert np.array_equal(heatmap(at), field)
    assert not np.array_equal(generated(at), fake)
    assert metric(at, "D / G updates") == "0 / 1"


def test_step_runs_one_iteration_and_reset_restores_initial_model():
    at = page()
    field = heatmap(at)
    click(at, pg.P + "step")
    assert metric(at, "Iteration") == "1" and not np.array_equal(heatmap(at), field)
    assert len(at.session_state[pg.TRAINER].history) == 1
    click(at, pg.P + "reset")
    assert metric(at, "Iteration") == "0"
    assert np.array_equal(heatmap(at), field)  # same seed, same fresh weights


def test_play_advances_on_each_refresh_until_pause():
    at = page()
    at.slider(key=pg.SPEED).set_value(3).run()
    click(at, pg.P + "play")
    assert at.button(key=pg.P + "play").disabled
    assert metric(at, "Iteration") == "3"
    at.run()  # what the fragment's timer does in the browser
    assert metric(at, "Iteration") == "6"
    click(at, pg.P + "pause")
    at.run()
    assert metric(at, "Iteration") == "6"
    steps = [r["step"] for r in at.session_state[pg.TRAINER].divergence_history]
    assert steps == sorted(set(steps)) and steps[-1] == 6  # one KL/JS point per refresh


def test_a_generator_on_one_mode_of_the_ring_raises_the_collapse_alarm():
    at = page()
    assert not at.warning  # the untrained G covers few modes, but that is not a collapse
    trainer = at.session_state[pg.TRAINER]
    last = [m for m in trainer.G.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():  # every sample on the ring's first mode (0.8, 0)
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.8, 0.0]))
    trainer.iteration = pg.ALARM_AFTER
    at.run()
    assert metric(at, "Modes covered") == "1 / 8"
    assert "G covers 1 of the 8 modes" in at.warning[0].value and "Try" in at.warning[0].value


def test_diverged_training_pauses_with_a_message():
    at = page()
    with torch.no_grad():  # what a far too high learning rate does eventually
        for p in at.session_state[pg.TRAINER].G.parameters():
            p.fill_(float("nan"))
    click(at, pg.P + "play")
    assert at.session_state[pg.PLAYING] is False
    assert "diverged" in at.info[0].value and "Reset" in at.info[0].value
    click(at, pg.P + "reset")
    assert metric(at, "Iteration") == "0" and np.isfinite(generated(at)).all()


def test_preset_writes_settings_and_shows_critic_scores():
    at = page()
    at.selectbox(key=pg.PRESET).set_value("Recovery with WGAN-GP").run()
    assert not at.exception
    assert at.selectbox(key=pg.P + "loss").value == "wgan-gp"
    assert at.slider(key=pg.P + "d_steps").value == 5 and at.slider(key=pg.P + "g_layers").value == 1
    config = at.session_state[pg.TRAINER].config
    assert (config.loss, config.gp_lambda, config.g_hidden, config.lr_d) == ("wgan-gp", 1.0, (16,), 5e-3)
    heat = next(t for t in chart(at, pg.FIELD)["data"] if t["type"] == "heatmap")
    assert heat["colorbar"]["title"]["text"] == "critic"
    click(at, pg.P + "step")
    assert metric(at, "D / G updates") == "5 / 3"


def test_learning_rate_change_keeps_progress_but_network_change_restarts():
    at = page()
    click(at, pg.P + "step")
    at.select_slider(key=pg.P + "lr_g").set_value(1e-2).run()
    assert metric(at, "Iteration") == "1" and not at.info
    at.slider(key=pg.P + "g_layers").set_value(3).run()
    assert metric(at, "Iteration") == "0"
    assert "restarted" in at.info[0].value
    assert at.session_state[pg.TRAINER].config.g_hidden == (64, 64, 64)


def test_csv_upload_trains_on_the_points():
    at = page()
    at.radio(key=pg.SOURCE).set_value(pg.CSV).run()
    assert "Upload a CSV" in at.info[0].value
    at.file_uploader(key=pg.UPLOAD).set_value(("pts.csv", b"x,y\n0.1,0.2\n-0.5,0.5\n0.3,-0.7\n", "text/csv")).run()
    assert not at.exception and not at.error
    assert any("3 points from pts.csv" in c.value for c in at.caption)
    config = at.session_state[pg.TRAINER].config
    assert config.distribution == "custom" and config.points[1] == (-0.5, 0.5)
    click(at, pg.P + "step")
    assert metric(at, "Iteration") == "1"


def test_bad_csv_shows_error_naming_the_line():
    at = page()
    at.radio(key=pg.SOURCE).set_value(pg.CSV).run()
    at.file_uploader(key=pg.UPLOAD).set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert not at.exception
    assert "line 3" in at.error[0].value and "What to do" in at.error[0].value
    assert not at.get("plotly_chart") or all(not c.proto.id.endswith(pg.FIELD) for c in at.get("plotly_chart"))


def test_drawn_points_train_and_clear():
    at = page()
    at.radio(key=pg.SOURCE).set_value(pg.DRAW).run()
    assert "Draw some points" in at.info[0].value
    at.session_state[pg.DRAWN] = [(0.5, 0.5), (-0.5, 0.25)]  # what _add_selection stores from a lasso
    at.run()
    assert not at.exception
    assert at.session_state[pg.TRAINER].config.points == ((0.5, 0.5), (-0.5, 0.25))
    click(at, pg.P + "clear_drawn")
    assert at.session_state[pg.DRAWN] == [] and "Draw some points" in at.info[0].value


def test_speed_and_layers_survive_runs_without_the_controls():
    at = page()
    at.slider(key=pg.SPEED).set_value(7).run()
    at.radio(key=pg.SOURCE).set_value(pg.DRAW).run()  # no points yet: the controls and view are not drawn
    assert not at.get("plotly_chart") or all(not c.proto.id.endswith(pg.FIELD) for c in at.get("plotly_chart"))
    at.session_state[pg.DRAWN] = [(0.5, 0.5)]
    at.run()  # points drawn: the controls come back with the values set before
    assert at.slider(key=pg.SPEED).value == 7
    assert at.session_state[pg.SHOW] == list(F.LAYERS)


def test_hiding_layers_removes_their_traces():
    at = page()
    at.session_state[pg.SHOW] = ["Real", "Generated"]
    at.run()
    assert {t.get("name") for t in chart(at, pg.FIELD)["data"]} == {"real", "generated"}


def test_selected_points_reads_plotly_selection_events():
    event = {"selection": {"points": [{"x": 0.1500000001, "y": -0.2, "curve_number": 0}, {"x": None}]}}
    assert F.selected_points(event) == [(0.15, -0.2)]
    assert F.selected_points(None) == [] and F.selected_points({"selection": {}}) == []


def test_canvas_figure_has_selectable_grid_and_drawn_points():
    fig = F.canvas_figure([(0.5, 0.5)])
    assert len(fig.data[0].x) == 41 * 41 and list(fig.data[1].x) == [0.5]
    assert len(F.canvas_figure([]).data) == 1
