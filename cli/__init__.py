"""The click application, installed as `symgraph.cli`: argument parsing and output only."""

from .commands import main

__all__ = ["main"]
