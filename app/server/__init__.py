"""The branch booking server: booking service, HTTP API, live events, LAN desks, backups.

It knows no cloud: :mod:`app.composition` builds the store, the booking service, this
server's API and the sync engine together (``BranchServer``).
"""
