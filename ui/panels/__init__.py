"""The main window's panels: the queue, the check-ins, the needs-attention tab, the
booking pane, and the status bar's sync state and not-live banner."""
