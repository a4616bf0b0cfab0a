"""The desk's dialogs: a new booking, customer search and card, payment, closing the
day, the cloud account, pairing a desk, backups and diagnostics, and the small
ones (accept, cancel, reschedule, go to date: :mod:`ui.dialogs.common`)."""
