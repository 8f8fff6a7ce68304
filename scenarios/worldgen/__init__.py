"""The generator of the built-in "world" scenario (run it with ``python -m scenarios.world_gen``).

facts: the made-up world · qa: shared questions and answers · corpus: pretraining text ·
chat: fine-tuning conversations · preference: preference pairs · evals: probes and evaluations.
"""
