"""Synchronisation of the branch store with the clinic clouds (Ehjzny, ...)."""
