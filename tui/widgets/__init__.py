"""One widget per file, in a folder per tab that draws it (common/: more than one tab); each
gets its data as attributes and never talks to the engine."""
