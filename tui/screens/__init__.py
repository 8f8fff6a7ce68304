"""Screens pushed over the training view: help, reset confirmation, trainer crash, a box of
the training loop explained, the report card, why this token (its words: why_text.py)."""
