"""Screens pushed over the training view: help, reset confirmation, trainer crash."""
