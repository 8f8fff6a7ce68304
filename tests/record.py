"""Train the tiny runs the screen snapshots show, and record the engine's messages as
tests/recordings/<name>.json (the format: tests/recorded.py). From the repository's root:

    python tests/record.py              # every recording
    python tests/record.py sft dpo      # only these

It loads this checkout's packages, whatever is installed. Run it when a test says a
recording is stale (the protocol gained or lost a field, or a field's type changed), or when
the snapshots should show what today's torch computes. It trains in this process with the
seeds and settings the snapshots were drawn from, in a throwaway cache, and fixes the timing
fields so that no machine's speed reaches a screenshot. Then run the snapshot tests: a
changed number is a changed screen. Look at each (``pytest --snapshot-report``) before
``pytest --snapshot-update``.

Each stage's live test (``test_*_trained_now_*`` in the snapshot test files) calls the
functions here with a fresh folder, so the recorder is run by the suite and cannot rot.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

TESTS = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: the repo's packages and the test helpers
    sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from conftest import seeded_text  # noqa: E402 (also points the caches at a throwaway folder)
from recorded import RECORDINGS, dumps  # noqa: E402
from stage_fixtures import (  # noqa: E402
    train_sft_and_reward_model,
    write_preference,
    write_sft_scenario,
)

from model import protocol as p  # noqa: E402


def pretrain(folder: Path, steps: int = 40) -> dict:
    """``steps`` steps of the real trainer on the seeded places text, and a sample."""
    from model.engine.ready_message import ready_message
    from model.gpt import GPTConfig
    from model.pipeline import build_trainer
    from model.settings import TrainSettings

    config = GPTConfig(vocab_size=320, context=64, n_layer=3, n_head=2, d_model=48)
    settings = TrainSettings(
        steps=400, batch_size=8, lr=3e-3, warmup_steps=10, eval_every=10, seed=7
    )
    trainer = build_trainer(seeded_text(), config, settings, "places", cache_dir=folder / "bpe")
    reports = []
    for _ in range(steps):
        report = trainer.step()
        assert isinstance(report, p.StepReport), report
        reports.append(replace(report, tokens_per_s=6000.0, step_seconds=0.085))
    ready = ready_message(trainer)
    text = trainer.sample("", 40)
    sample = p.SampleText("pretrain", trainer.state.step, "", text)
    return {"ready": ready, "reports": tuple(reports), "sample": sample}


def why_sample(folder: Path) -> dict:
    """A sample of a real tiny model after 40 seeded steps, each token's draw explained."""
    from engine_fixtures import make_trainer, tiny_corpus

    trainer = make_trainer(tiny_corpus(), folder, seed=3)
    for _ in range(40):
        trainer.step()
    return {"sample": trainer.sample_message("The capital of", 24, p.Sampler(1.5, 10, 0.9, 2))}


def sft(folder: Path) -> dict:
    """The tiny scenario pretrained, then fine-tuned: its evals before and after, every
    step, and the probes answered by the base and the fine-tuned model."""
    import copy

    from model.engine.ready_message import ready_message
    from model.evals.stage_evals import probe_answers, run_evals
    from model.loaded_model import LoadedModel
    from model.pipeline import new_trainer, run_headless
    from scenarios import load_scenario

    write_sft_scenario(folder)
    scenario = load_scenario(folder)
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    base_model = copy.deepcopy(pretrain.model)
    meta = {"state": {"step": 12}, "settings": {"steps": 12}}
    base = LoadedModel(
        folder, "pretrain", pretrain.model, pretrain.tokenizer, pretrain.config,
        pretrain.settings, meta,
    )  # fmt: skip
    sft = new_trainer(scenario, "sft", base=base)
    tok = sft.tokenizer
    before = run_evals(sft.model, tok, scenario, "sft", 0)
    reports = []
    for _ in range(sft.settings.steps):
        r = sft.step()
        reports.append(replace(r, tokens_per_s=9000.0, step_seconds=0.03))
    after = run_evals(sft.model, tok, scenario, "sft", sft.state.step)
    probes = scenario.probes
    rows = tuple(
        (pr.name, pr.prompt, b, n)
        for pr, b, n in zip(
            probes,
            probe_answers(base_model, tok, probes, chat=False),
            probe_answers(sft.model, tok, probes, chat=True),
            strict=True,
        )
    )
    return {
        "pretrain_ready": ready_message(pretrain),
        "base": p.BaseModel("sft", "cache", 12, 12, 2.5, "cache", sft.data.describe()),
        # The base's path is a temporary folder: fixed here, so the screen is the same.
        "ready": replace(ready_message(sft), starts_from="pretrain step 12/12, the cached run"),
        "before": before,
        "reports": tuple(reports),
        "after": after,
        "probes": p.ProbeAnswers("sft", sft.state.step, rows),
    }


def dpo(folder: Path) -> dict:
    """The tiny scenario pretrained, fine-tuned, then DPO: evals before and after, every
    step."""
    from model.checkpoint import save_checkpoint
    from model.engine.ready_message import ready_message
    from model.evals.stage_evals import run_evals
    from model.loaded_model import load_model
    from model.pipeline import new_trainer, run_headless
    from scenarios import load_scenario

    write_sft_scenario(folder)
    write_preference(folder)
    scenario = load_scenario(folder)
    pretrain = new_trainer(scenario, "pretrain")
    run_headless(pretrain)
    save_checkpoint(pretrain, folder / "pretrain")
    sft = new_trainer(scenario, "sft", base=load_model(folder / "pretrain"))
    run_headless(sft)
    save_checkpoint(sft, folder / "sft")
    dpo = new_trainer(scenario, "dpo", base=load_model(folder / "sft"))
    tok = dpo.tokenizer
    before = run_evals(dpo.model, tok, scenario, "dpo", 0, preference=dpo.data)
    reports = [
        replace(dpo.step(), tokens_per_s=5000.0, step_seconds=0.02)
        for _ in range(dpo.settings.steps)
    ]
    after = run_evals(dpo.model, tok, scenario, "dpo", dpo.state.step, preference=dpo.data)
    return {
        "pretrain_ready": ready_message(pretrain),
        "base": p.BaseModel("dpo", "cache", 8, 8, 1.5, "cache", dpo.data.describe()),
        "ready": replace(ready_message(dpo), starts_from="sft step 8/8, the cached run"),
        "before": before,
        "reports": tuple(reports),
        "after": after,
    }


def rlhf(folder: Path) -> dict:
    """The tiny scenario fine-tuned, a reward model trained, then RL against it: evals
    before and after, every step."""
    from model.engine.ready_message import ready_message
    from model.evals.stage_evals import run_evals
    from model.loaded_model import load_model
    from model.pipeline import new_trainer
    from model.resume import load_checkpoint
    from scenarios import load_scenario

    write_sft_scenario(folder)
    write_preference(folder)
    scenario = load_scenario(folder)
    sft_path, rm_path = train_sft_and_reward_model(scenario, folder)
    pretrain = load_checkpoint(folder / "pt", scenario)  # its ready message opens the app
    rl = new_trainer(scenario, "rlhf", base=load_model(sft_path), reward=load_model(rm_path))
    tok, rm = rl.tokenizer, rl.data.reward_model
    before = run_evals(rl.model, tok, scenario, "rlhf", 0, reward_model=rm)
    reports = [
        replace(rl.step(), tokens_per_s=5000.0, step_seconds=0.02) for _ in range(rl.settings.steps)
    ]
    after = run_evals(rl.model, tok, scenario, "rlhf", rl.state.step, reward_model=rm)
    offer = p.BaseModel("rlhf", "cache", 8, 8, 1.5, "cache", rl.data.describe(),
                        reward_model="cache", reward_accuracy=0.92)  # fmt: skip
    return {
        "pretrain_ready": ready_message(pretrain),
        "base": offer,
        "ready": replace(ready_message(rl), starts_from="sft step 8/8, the cached run"),
        "before": before,
        "reports": tuple(reports),
        "after": after,
    }


def compare(folder: Path) -> dict:
    """Three real tiny checkpoints (compare_fixtures) asked the app's first ask (id 1, the
    app's sampler), as the engine works it out (model.engine.compare_answers), the time each
    took fixed; and the pretraining run's EngineReady."""
    from types import SimpleNamespace

    from compare_fixtures import cache_at, trained_scenario

    from model.engine.compare_answers import column, prompts_for
    from model.engine.ready_message import ready_message
    from model.pipeline import new_trainer
    from scenarios import load_scenario

    trained_scenario(folder)
    with cache_at(folder / "cache"):
        scenario = load_scenario(folder)
        ready = ready_message(new_trainer(scenario, "pretrain"))
        engine = SimpleNamespace(runs={}, scenario=scenario, options=SimpleNamespace(fresh=False))
        ask = p.CompareAsk(1, p.APP_SAMPLER)
        rows = prompts_for(scenario)
        columns = tuple(column(engine, stage, rows, ask) for stage in p.COMPARE_STAGES)
    # How long each model took is the machine's, not the model's: fixed, as the steps' are.
    columns = tuple(replace(c, seconds=0.25 if c.seconds else 0.0) for c in columns)
    prompts = p.ComparePrompts(1, tuple((name, text) for name, _, text in rows))
    return {"ready": ready, "prompts": prompts, "columns": columns}


RECORDERS = {
    "pretrain": pretrain,
    "why": why_sample,
    "sft": sft,
    "dpo": dpo,
    "rlhf": rlhf,
    "compare": compare,
}


def main(names: list[str]) -> int:
    import torch

    unknown = [n for n in names if n not in RECORDERS]
    if unknown:
        print(f"no recording named {', '.join(unknown)}; there are: {', '.join(RECORDERS)}")
        return 2
    RECORDINGS.mkdir(exist_ok=True)
    for name in names or RECORDERS:
        with tempfile.TemporaryDirectory(prefix=f"trainterm-record-{name}-") as folder:
            messages = RECORDERS[name](Path(folder))
        path = RECORDINGS / f"{name}.json"
        path.write_text(dumps(messages, torch=torch.__version__), encoding="utf-8")
        print(f"wrote {path.relative_to(TESTS.parent)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
