"""GAN Lab entry point (`streamlit run app.py`): page router and the shared jobs sidebar; no logic."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.live import jobs_sidebar

ROOT = Path(__file__).resolve().parent
# (file, title, icon): a page appears only once its file exists, so the app runs while pages are written.
PAGES = [
    ("views/home.py", "Home", ":material/home:"),
    ("views/train.py", "Train", ":material/model_training:"),
    ("views/runs.py", "Runs", ":material/history:"),
    ("views/explore.py", "Explore", ":material/explore:"),
    ("views/playground.py", "Playground", ":material/scatter_plot:"),
]

st.set_page_config(page_title="GAN Lab", page_icon=":material/auto_awesome:", layout="wide")
pages = [st.Page(path, title=title, icon=icon, default=(i == 0))
         for i, (path, title, icon) in enumerate(PAGES) if (ROOT / path).is_file()]
current = st.navigation(pages)
with st.sidebar:
    jobs_sidebar("views/train.py" if (ROOT / "views/train.py").is_file() else None)
current.run()
