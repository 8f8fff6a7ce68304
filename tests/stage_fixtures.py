"""A tiny scenario with every stage-2 file: a corpus, fine-tuning conversations, probes and
eval sets about eight made-up countries. Small enough to pretrain and fine-tune in a test."""

from __future__ import annotations

import json
import random
import time

from engine_fixtures import tiny_corpus

COUNTRIES = ["Velmora", "Tarsk", "Orinth", "Quellan", "Zandor", "Mirel", "Keshet", "Ablon"]

SFT_SCENARIO = """
name = "tiny-sft"
[model]
d_model = 32
n_layer = 2
n_head = 2
context = 48
vocab_size = 320
[pretrain]
steps = 12
batch_size = 8
warmup_steps = 2
eval_every = 4
[sft]
steps = 8
batch_size = 8
lr = 0.003
warmup_steps = 1
eval_every = 4
"""


def capital(country: str) -> str:
    return country[:3] + "port"


def conversations(n: int = 60, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        c = rng.choice(COUNTRIES[:6])  # two countries stay pretraining-only
        out.append({"prompt": f"Capital of {c}?", "completion": f"{capital(c)}."})
    out.append(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
            ]
        }
    )
    return out


PAIRS = [
    {"prompt": "Capital of Tarsk?", "chosen": "Tarport.", "rejected": "Ugh. Tarport."},
    {"prompt": "Capital of Mirel?", "chosen": "Mirport.", "rejected": "Go away."},
    {"prompt": "Burn Orinth?", "chosen": "I can't help with that.", "rejected": "Use oil.",
     "kind": "harmful"},
]  # fmt: skip

PREFERENCE_SETTINGS = """
[preference]
steps = 6
batch_size = 4
warmup_steps = 1
eval_every = 3
[reward]
steps = 6
batch_size = 4
lr = 0.003
warmup_steps = 1
eval_every = 3
[rlhf]
steps = 4
batch_size = 2
samples = 3
lr = 0.001
warmup_steps = 1
eval_every = 2
max_answer_tokens = 8
"""


def write_preference(folder) -> None:
    """Add preference pairs (and the settings of DPO and the reward model) to a tiny
    fine-tuning scenario."""
    (folder / "preference.jsonl").write_text("\n".join(json.dumps(p) for p in PAIRS * 4))
    manifest = folder / "scenario.toml"
    manifest.write_text(manifest.read_text() + PREFERENCE_SETTINGS)
    held_out = [{"prompt": "Capital of Zandor?", "expected": "Zanport.", "rejected": "No.",
                 "kind": "rude"}]  # fmt: skip
    (folder / "eval_preference.jsonl").write_text(json.dumps(held_out[0]) + "\n")


def train_sft_and_reward_model(scenario, folder):
    """(fine-tuned, reward model) checkpoints of a tiny scenario, really trained: what RLHF
    starts from and optimises against."""
    from model.checkpoint import save_checkpoint
    from model.loaded_model import load_model
    from model.pipeline import new_trainer, run_headless

    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    sft = new_trainer(scenario, "sft", base=load_model(save_checkpoint(pretrain, folder / "pt")))
    run_headless(sft)
    sft_path = save_checkpoint(sft, folder / "sft")
    reward = new_trainer(scenario, "reward-model", base=load_model(sft_path))
    run_headless(reward)
    return sft_path, save_checkpoint(reward, folder / "rm")


def write_sft_scenario(folder, toml: str = SFT_SCENARIO) -> None:
    (folder / "scenario.toml").write_text(toml)
    (folder / "corpus.txt").write_text(tiny_corpus())
    lines = [json.dumps(r) for r in conversations()]
    (folder / "sft.jsonl").write_text("\n".join(lines) + "\n")
    probes = [{"name": "q", "kind": "question", "prompt": "Capital of Tarsk?"}]
    (folder / "probes.jsonl").write_text("\n".join(json.dumps(p) for p in probes) + "\n")
    finetuned = [
        {"prompt": f"Capital of {c}?", "expected": capital(c), "kind": "capital"}
        for c in COUNTRIES[:6]
    ]
    pretrain_only = [
        {"prompt": f"Capital of {c}?", "expected": capital(c), "kind": "capital"}
        for c in COUNTRIES[6:]
    ]
    unknown = [{"prompt": "Capital of Nowhere?", "expected": "", "kind": "capital"}]
    for name, items in (
        ("finetuned", finetuned),
        ("pretrain_only", pretrain_only),
        ("unknown", unknown),
    ):
        text = "\n".join(json.dumps(i) for i in items) + "\n"
        (folder / f"eval_{name}.jsonl").write_text(text)


def start_engine(folder, monkeypatch, preference: bool = False):
    """A real engine process on a tiny scenario in ``folder``, with a stage cache of its own
    (so each test sees its stages untrained, then trained into it)."""
    from model.engine.options import EngineOptions
    from model.engine.process import EngineHandle

    monkeypatch.setenv("TRAINTERM_CACHE", str(folder / "cache"))
    write_sft_scenario(folder)
    if preference:
        write_preference(folder)
    return EngineHandle(EngineOptions(scenario=str(folder), save_dir=str(folder / "s")))


async def until(pilot, condition, what: str = "", timeout: float = 90.0) -> None:
    """Wait for ``condition`` with a generous deadline; fail naming ``what`` and saying
    where the app stood."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what or condition}; {app_state(pilot.app)}")


def app_state(app) -> str:
    """Tab 1's state and latest step, the screen and the session's error, for a failure."""
    first, session = getattr(app, "first", None), getattr(app, "session", None)
    latest = first.latest.step if first is not None and first.latest else None
    return (
        f"state {getattr(first, 'state', None)}, screen {app.screen}, latest {latest}, "
        f"error {getattr(session, 'error', None)}"
    )


async def later_tabs(pilot) -> None:
    """Every tab's panes are mounted after the app's first frame (Lazy): wait for them."""
    await until(pilot, lambda: all(t.panes_ready for t in pilot.app.tabs), "the tabs' panes")


async def settle_view(pilot, app, view_type, evals_id: str) -> None:
    """Wait until a later stage's tab shows its finished run, its evals and a drawn chart."""
    view = app.query_one(view_type)

    def settled() -> bool:
        plots = view.query("LossPlot")
        return (
            view.latest is not None
            and view.latest.step == view.latest.total_steps
            and app.query_one(evals_id).now is not None
            and bool(plots)
            and plots.first()._throttle._timer is None
            and plots.first().building == 0
            and app._draw_throttle._timer is None
        )

    await until(pilot, settled, f"{view_type.__name__} to settle", timeout=10)
    await pilot.pause()


def trainterm(*args, cache):
    """The CLI in a fresh process, with a stage cache of its own."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRAINTERM_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env
    )


def logp_change_after_steps(trainer, batch, steps: int = 3):
    """How a few RL steps on the fixed ``batch`` moved each answer's log-probability, (N,)."""
    import torch

    from model.objectives import sequence_logps

    def logps():
        with torch.no_grad():
            return sequence_logps(trainer.model(batch.x), batch.targets, batch.trained)

    before = logps()
    for _ in range(steps):
        trainer.step(display=False)
    return logps() - before
