"""The trainer process: it owns the runs, obeys the screen's commands and sends it reports.

  options          what the process is started with (plain data, built by the screen)
  process          the screen's handle on the process (start, send, stop), its entry point
  engine           the process's loop: commands, stepping, coalesced reports, save, reset
  stage_commands   the Engine's commands for the later stages: fast-forward, start, evals
  base_models      which base model a later stage would start from, and starting it
  tab_evals        the evals and probe answers a later stage's tab shows
  compare_answers  the Compare tab's answers, one model per turn of the loop
  ready_message    what the screen is told about a run before its first step

Light at import time: torch loads in the child, when the first run is built. The screen
imports only `options` and `process`; nothing is imported here.
"""
