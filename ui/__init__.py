"""Streamlit glue shared by the pages: job manager, forms, charts, widgets (the only UI code besides views/)."""
