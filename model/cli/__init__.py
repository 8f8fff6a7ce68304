"""The headless command line: `python -m model` (and `trainterm` for these commands).

  common      one-line errors, exit codes, the scenario and sampler arguments (no torch)
  main        the parser and the dispatch to a command's module
  train       `train`: a run with a progress bar, checkpoints and a metrics file
  eval        `eval` and `ask`: a checkpoint's scores, and its answers
  reward      `eval` of a reward model: how it ranks held-out answer pairs
  report      `report`: the report card of a `train --stage all` folder
  bench       `bench`: training speed and model FLOPs utilisation
  fill_cache  `python -m model.cli.fill_cache`: the stage cache filled before `serve`

A command's module imports `common`, never `main`; nothing is imported here.
"""
