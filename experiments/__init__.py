"""Experiments: scenario library, CLI, result writing (drives simulation/, never agents/)."""
