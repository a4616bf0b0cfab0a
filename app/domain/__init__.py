"""Booking rules: statuses, transitions, queues, availability. Pure Python, no I/O."""
