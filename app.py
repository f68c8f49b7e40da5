"""GAN Lab's Home page (`streamlit run app.py`): the shipped generators as a gallery and a one-click quick start."""

from __future__ import annotations

import random
from pathlib import Path

import streamlit as st

from ganlab.config import TrainConfig
from ganlab.runs import list_pretrained
from ui import guard, state
from ui.explore import open_in_explore
from ui.jobs import get_manager
from ui.sidebar import EXPLORE, TRAIN, page
from ui.widgets import seed_grid, show_error, show_grid

# ~560 steps: digit shapes appear after ~300 steps of batch 64 (2 epochs would show only noise), and at
# ~2,000 images/s on a laptop CPU the whole run takes about 20 s.
QUICK_START = TrainConfig(dataset="digits", img_size=32, arch="dcgan", loss="bce", g_channels=32, d_channels=32,
                          batch_size=64, epochs=20.0, log_every=5, sample_every=20, checkpoint_every=200,
                          num_samples=36, name="quickstart")


def _new_seed(name: str) -> None:
    st.session_state[state.GALLERY_SEED + name] = random.randrange(100_000)


page("Home")
st.title("GAN Lab")
st.markdown("Train generative adversarial networks on your own CPU or GPU, watch them learn, "
            "and explore what they learned. Everything runs locally; no network needed.")

st.subheader("Quick start")
st.caption(f"A DCGAN on the bundled handwritten digits: {QUICK_START.img_size}px, "
           f"{QUICK_START.epochs:g} epochs, batch {QUICK_START.batch_size}. Watch the samples sharpen live.")
if st.button("Train a DCGAN on digits", key="home.quickstart", type="primary", icon=":material/rocket_launch:"):
    manager = get_manager()
    job = manager.submit(QUICK_START)
    position = manager.queue_position(job.job_id)
    st.session_state[state.FOLLOW_NEWEST] = job.job_id
    st.session_state[state.FLASH] = (
        ("success", f"Quick start: {job.job_id} is training.") if position is None else
        ("info", f"Quick start: {job.job_id} is queued (position {position}); one job trains at a time."))
    st.switch_page(TRAIN, query_params=guard.link_params())

st.subheader("Pretrained generators")
cards = list_pretrained()
if not cards:
    st.info("No pretrained generators yet. Train one with the quick start above; every run's checkpoints "
            "can be opened on the Explore page.")
columns = st.columns(3)
for i, card in enumerate(cards):
    name = str(card.get("name") or Path(card["path"]).stem)
    seed = st.session_state.setdefault(state.GALLERY_SEED + name, 0)
    with columns[i % 3].container(border=True):
        st.markdown(f"**{name}**")
        st.caption(" · ".join(str(v) for v in (card.get("dataset"), card.get("architecture"), card.get("loss"),
                                                f"{card.get('steps', '?')} steps") if v))
        try:
            grid = seed_grid(card["path"], Path(card["path"]).stat().st_mtime_ns, seed)
        except (ValueError, OSError) as exc:
            show_error(exc, hint="Re-export this model, or delete its .safetensors and .json files.")
            continue
        show_grid(grid, caption=f"seeds {seed}–{seed + 15}", min_width=256)
        left, right = st.columns(2)
        left.button("New seed", key=f"home.new_seed.{name}", on_click=_new_seed, args=(name,),
                    icon=":material/casino:", width="stretch")
        if right.button("Explore this model", key=f"home.explore.{name}", icon=":material/explore:",
                        width="stretch"):
            open_in_explore(card)
            st.switch_page(EXPLORE, query_params=guard.link_params())
