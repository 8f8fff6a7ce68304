"""The Compare tab's panes: every model's answers side by side, one answer in detail, and
the question box."""
