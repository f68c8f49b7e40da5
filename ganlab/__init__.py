"""GAN Lab core: configs, data, networks, losses, trainer, jobs and run store (no Streamlit)."""

__version__ = "0.1.0"
