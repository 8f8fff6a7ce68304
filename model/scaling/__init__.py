"""`trainterm scaling`: several model sizes trained on one corpus, a power law fitted to their
losses, and which size wins at a fixed compute. ``law`` is the arithmetic (numpy, no torch),
``runs`` trains the sizes with the project's own Trainer, ``report`` prints and writes them."""
