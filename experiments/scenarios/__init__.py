"""Scenario library (TOML files shipped with the package)."""
