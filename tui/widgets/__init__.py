"""One widget per file; each gets its data as attributes and never talks to the engine."""
