"""Simulated clouds (real HTTP servers) the desk's connectors and sync engine are tested against."""
