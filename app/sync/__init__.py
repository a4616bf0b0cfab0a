"""Synchronisation of the branch store with the clinic clouds: one connector per cloud (:mod:`app.sync.registry`)."""
