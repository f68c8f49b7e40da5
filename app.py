"""GAN Lab entry point (`streamlit run app.py`): page router and the shared jobs sidebar; no logic."""

from __future__ import annotations

import streamlit as st

from ui.live import jobs_sidebar

# Pages live in views/, not pages/: a pages/ folder makes Streamlit fall back to its legacy
# auto-discovery when a page URL is the first request, which bypasses this router.
PAGES = [
    ("views/home.py", "Home", ":material/home:"),
    ("views/train.py", "Train", ":material/model_training:"),
    ("views/runs.py", "Runs", ":material/history:"),
    ("views/explore.py", "Explore", ":material/explore:"),
    ("views/playground.py", "Playground", ":material/scatter_plot:"),
]

st.set_page_config(page_title="GAN Lab", page_icon=":material/auto_awesome:", layout="wide")
current = st.navigation([st.Page(path, title=title, icon=icon, default=(i == 0))
                         for i, (path, title, icon) in enumerate(PAGES)])
with st.sidebar:
    jobs_sidebar("views/train.py")
current.run()
