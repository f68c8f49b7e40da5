"""Streamlit helpers shared by the pages: sidebar, job manager, forms, charts, widgets (the only UI code besides pages/)."""
