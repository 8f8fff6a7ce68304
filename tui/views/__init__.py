"""One view per stage tab; the app routes each engine message to the view of its stage."""
