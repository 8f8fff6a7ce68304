"""How a model is scored, the same in `trainterm eval`, the live tabs and the report card.

  text          how answers are read: a fact named, a refusal's opening, a capped eval set
  gold_judge    rules that know the world's truth (no torch), beside the reward model
  well_formed   is an answer fluent: the training files' words, no loop, a turn that ends
  gold_scores   the gold judge's and the reward model's scores of a model's answers
  stage_evals   the evals that fit a model's stage, on the scenario's eval sets
  report_card   stages × metrics as text, Markdown and JSON (light: the screen draws it)
  over_seeds    report cards of several seeds as one table: each figure's median and range
  live_report   the app's report card, scored in the engine process

Each module imports only those listed above it. Nothing is imported here, so the screen can
import the report card without torch.
"""
