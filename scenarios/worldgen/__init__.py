"""The generator of the built-in "world" scenario (run it with ``python -m scenarios.world_gen``).

facts: the made-up world · phrasings: every question and request in twelve phrasings, a
third held out · qa: the answers they share · harms: kinds of harm and their look-alikes ·
corpus (with corpus_harm): pretraining text · chat: fine-tuning conversations ·
preference: preference pairs · evals: probes and evaluations.
"""
