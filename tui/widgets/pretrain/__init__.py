"""Tab 1's own panes: the training loop's diagram, the model's figures, the samples, a patch
of live weights."""
