"""The desk's windows: the main window, doctor mode, the waiting-room screen, the
Reports window and the first-run page, each with the menu wiring that opens it."""
