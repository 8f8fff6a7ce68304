"""The command palette (ctrl+p): every action of the keys, by name."""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import SystemCommand

from tui.stages import CARDS

SAMPLER = (
    ("Hotter", "Raise the sampling temperature (t)", "temperature", 1),
    ("Cooler", "Lower the sampling temperature (T)", "temperature", -1),
    ("More top-k", "Draw from more of the likeliest tokens (k)", "top_k", 1),
    ("Fewer top-k", "Draw from fewer of the likeliest tokens (K)", "top_k", -1),
    ("More top-p", "Draw from a larger share of the probability (u)", "top_p", 1),
    ("Less top-p", "Draw from a smaller share of the probability (U)", "top_p", -1),
    ("Next seed", "Another seed for the draw (d)", "seed", 1),
    ("Previous seed", "The seed before (D)", "seed", -1),
)


def palette_commands(app) -> Iterator[SystemCommand]:
    yield SystemCommand("Play / pause", "Start or stop training (space)", app.action_play_pause)
    yield SystemCommand("Step", "Train exactly one step (n)", app.action_step)
    yield SystemCommand(
        "Step one phase",
        "Run only the next phase of the step: sample, tokenize, forward, loss, … (p)",
        app.action_step_phase,
    )
    for card in CARDS:
        yield SystemCommand(
            f"Stage {card.tab_label}",
            f"Show the {card.title} tab ({card.number})",
            lambda n=card.number: app.action_stage(n),
        )
    yield SystemCommand(
        "Compare", "Every model's answers side by side (4)", lambda: app.action_stage(4)
    )
    yield SystemCommand("Faster", "Raise the speed cap (+)", lambda: app.action_speed(1))
    yield SystemCommand("Slower", "Lower the speed cap (-)", lambda: app.action_speed(-1))
    yield SystemCommand("Sample text", "What does the model write now? (g)", app.action_sample)
    yield SystemCommand(
        "Why this token", "A sample, and how the sampler chose each token (w)", app.action_why
    )
    yield SystemCommand("Greedy on / off", "Always the most likely token (0)", app.action_greedy)
    for title, help_text, action, direction in SAMPLER:
        act = getattr(app, f"action_{action}")
        yield SystemCommand(title, help_text, lambda act=act, d=direction: act(d))
    yield SystemCommand("Save checkpoint", "Save weights and optimizer (s)", app.action_save)
    yield SystemCommand(
        "Report card",
        "Every model this session has, scored as `trainterm eval` does (c)",
        app.action_report_card,
    )
    yield SystemCommand(
        "Export the run",
        "Per-step metrics (CSV, JSONL) and the batch's predictions (JSONL) (x)",
        app.action_export,
    )
    yield SystemCommand(
        "Screenshot into the save folder", "The screen as an SVG image (i)", app.action_save_screen
    )
    yield SystemCommand("Reset stage", "Start the stage again from scratch (r)", app.action_reset)
    yield SystemCommand("Help", "Every pane explained (?)", app.action_help)
