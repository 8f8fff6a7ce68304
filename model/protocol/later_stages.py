"""The messages of the stages after pretraining: a DPO pair and an RL batch as the screen
shows them, evaluations, the hand-off of a base model, the report card and exports."""

from __future__ import annotations

from dataclasses import dataclass

# --- what DPO and RL show of a step ----------------------------------------------------


@dataclass(frozen=True)
class RLSample:
    text: str
    score: float  # the reward model's
    kl: float  # log π/π_ref summed over the answer
    reward: float  # score − β·kl (− the penalty for not ending)
    advantage: float  # reward − the mean of the prompt's other answers
    ended: bool
    gold: float | None = None  # the gold judge's, where the scenario has one


@dataclass(frozen=True)
class RLView:
    prompt: str
    samples: tuple[RLSample, ...]


@dataclass(frozen=True)
class PairView:
    """One preference pair as DPO sees it: each answer token with log π/π_ref at it."""

    prompt: str
    chosen: tuple[tuple[str, float], ...]
    rejected: tuple[tuple[str, float], ...]


# --- evaluations and hand-off -------------------------------------------------------------


@dataclass(frozen=True)
class EvalRow:
    """One line of an eval table: "facts on fine-tuned countries  19/20"."""

    key: str
    label: str
    correct: int
    total: int
    # Plain words on what the figure means, filled with the figure where it helps.
    note: str = ""
    # False refusals, rude answers: a count of failures, where less is better.
    lower_is_better: bool = False
    # A mean score rather than a share (the gold judge's, the reward model's): shown as is;
    # ``correct`` then counts the answers scored above 0.
    score: float | None = None

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class EvalAnswer:
    set: str
    prompt: str
    expected: str
    answer: str
    ok: bool


@dataclass(frozen=True)
class EvalTable:
    stage: str
    step: int
    rows: tuple[EvalRow, ...]
    answers: tuple[EvalAnswer, ...] = ()


@dataclass(frozen=True)
class ProbeAnswers:
    """The scenario's probes answered by the base model and by the model now."""

    stage: str
    step: int
    # (probe name, prompt, base model's answer, the answer now)
    rows: tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True)
class BaseModel:
    """Where a later stage's starting model comes from, as its tab says it."""

    stage: str  # the stage that will start from it ("sft")
    source: str  # "cache", "tab" (the run in tab 1, as it is now), "file", or "" (none yet)
    step: int
    total_steps: int
    val_loss: float | None
    path: str = ""
    # What the stage will train on, in a sentence.
    trains_on: str = ""
    fast_forwarding: bool = False
    # RLHF: where its reward model comes from ("cache", "tab" — trained in this tab this
    # session — or "" when it has yet to be trained), and its held-out accuracy.
    reward_model: str = ""
    reward_accuracy: float | None = None
    # The β the scenario gives the stage (None: it has none): its tab starts there.
    beta: float | None = None


@dataclass(frozen=True)
class StartStage:
    """Start ``stage`` from the best base there is (the cache, else tab 1's model as it is)."""

    stage: str
    from_path: str = ""
    # Preference tuning's choices, made in its tab before the run starts (None: scenario's).
    beta: float | None = None
    method: str | None = None
    # RLHF's over-optimisation experiment pushes harder than the scenario's learning rate.
    lr: float | None = None


@dataclass(frozen=True)
class FastForward:
    """Train ``stage`` headless to its configured end, then cache it; cancelled by Cancel."""

    stage: str = "pretrain"


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class Activate:
    """The tab the keys now act on: play, step, sample and save go to this stage's run."""

    stage: str


@dataclass(frozen=True)
class RunEvals:
    pass


# --- the report card and exports ------------------------------------------------------------


@dataclass(frozen=True)
class ReportColumn:
    """One model's figures on the report card: the same as `trainterm eval` gives it."""

    stage: str
    step: int
    total_steps: int
    val_loss: float | None
    # Time spent in its steps and their held-out evals (pauses between them excluded);
    # None for a checkpoint written before trainterm kept it.
    seconds: float | None
    tokens_seen: int
    rows: tuple[EvalRow, ...]
    model: str = ""


@dataclass(frozen=True)
class ReportCard:
    scenario: str
    columns: tuple[ReportColumn, ...]
    # The folder the engine wrote report.md and report.json into, or why it could not.
    written: str = ""
    error: str = ""


@dataclass(frozen=True)
class MakeReport:
    """Score every model this session has, each as `trainterm eval` would."""


@dataclass(frozen=True)
class ExportMetrics:
    """Write the active run's per-step metrics, every step, as CSV and JSONL."""


@dataclass(frozen=True)
class Exported:
    stage: str
    step: int
    paths: tuple[str, ...]
