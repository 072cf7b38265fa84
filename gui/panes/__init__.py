"""The result panes of the main window, one module each."""
