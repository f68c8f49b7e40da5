"""Command line: ganlab (or python -m ganlab) train | resume | sample | morph | runs | export | tensorboard | bench."""

from ganlab.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
