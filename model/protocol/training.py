"""A run's messages: step reports, samples, the loop's phases one by one, and the commands
that drive a run (play, pause, step, speed, sample, save, reset).

Plain, frozen, picklable dataclasses of Python numbers and strings. This module imports
nothing heavy so the UI process can use it without loading torch (nor, until a run's
settings arrive, the scenario loader: the first frame comes sooner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.protocol.later_stages import PairView, RLView

if TYPE_CHECKING:  # the settings bring the scenario loader: the screen needs neither to start
    from model.settings import TrainSettings

# The screen redraws at most ~10 times a second; a faster stream of reports is wasted work,
# so the engine sends one at most this often (losses since the last ride along).
REPORT_INTERVAL = 0.1
# While playing, the screen draws four times a second (a batch can still be read), so the
# engine computes display figures only that often: each costs about a tenth of a step more.
PLAYING_DRAW_INTERVAL = 0.25


# --- engine → UI -------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    token_id: int
    text: str
    prob: float


@dataclass(frozen=True)
class Position:
    """One position of the display row: the token seen, and the model's guess for the next."""

    token_id: int
    text: str
    target_id: int
    target_text: str
    target_prob: float
    loss: float
    counts_in_loss: bool
    top: tuple[Alternative, ...]


@dataclass(frozen=True)
class LayerStat:
    """One group of weights, as the model pane shows it ("Embed", "Block 1", …, "Final norm")."""

    name: str
    grad_norm: float
    update_ratio: float
    weight_norm: float


@dataclass(frozen=True)
class StepReport:
    stage: str
    step: int
    total_steps: int
    loss: float
    lr: float
    grad_norm: float
    tokens_per_s: float
    tokens_seen: int
    step_seconds: float
    layers: tuple[LayerStat, ...]
    row: tuple[Position, ...]
    val_loss: float | None = None
    # Every (step, loss) since the previous report that reached the screen: coalescing
    # reports must never drop a point from the loss chart.
    losses: tuple[tuple[int, float], ...] = ()
    val_losses: tuple[tuple[int, float], ...] = ()
    # Other held-out series since the previous report: (name, step, value), e.g. the
    # pretraining validation loss measured during fine-tuning.
    series: tuple[tuple[str, int, float], ...] = ()
    # The loop diagram's figures: only in reports the screen will show.
    figures: LoopFigures | None = None
    # The stage's own numbers this step, by practitioners' names (DPO: "rewards/margins" …).
    metrics: tuple[tuple[str, float], ...] = ()
    # Preference tuning's batch: every pair, token by token (only in shown reports).
    pairs: tuple[PairView, ...] = ()
    # RLHF's batch: the first prompt's k sampled answers and what each earned.
    rl: RLView | None = None
    # Said when the run should stop and be looked at (RL collapsing); the engine pauses.
    alarm: str = ""


@dataclass(frozen=True)
class Divergence:
    """The loss stopped being a number; stepping stopped and nothing non-finite was kept."""

    stage: str
    step: int
    value: float
    message: str


@dataclass(frozen=True)
class EngineReady:
    scenario: str
    stage: str
    params: int
    vocab_size: int
    corpus_tokens: int
    context: int
    batch_size: int
    n_layer: int
    d_model: int
    optimizer: str
    total_steps: int
    threads: int
    step: int = 0
    # The run's settings, so the screen can draw the learning-rate schedule.
    settings: TrainSettings | None = None
    # Per scenario section of a later stage's data ("sft", "preference"), then per later stage
    # named otherwise ("dpo", "rlhf", …): what this scenario holds for it, or what it lacks.
    stage_data: tuple[tuple[str, str], ...] = ()
    # For a later stage: the model it started from, in a few words.
    starts_from: str = ""
    # This machine's matmul ceiling, measured as the engine starts (model.flops_peak): what
    # the status line's MFU is a share of. 0: not measured.
    peak_flops: float = 0.0


@dataclass(frozen=True)
class Sampler:
    """How a next token is drawn from the model's distribution, applied in this order:
    temperature, then top-k, then top-p (nucleus), then one draw seeded by ``seed``.
    Temperature 0 is greedy: the most likely token, always (the cuts cannot change it)."""

    temperature: float = 0.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def problem(self) -> str | None:
        """Why these settings cannot sample, in a few words; None when they can."""
        t, k, top_p = self.temperature, self.top_k, self.top_p
        if not (t >= 0 and t != float("inf")):
            return f"temperature must be 0 (greedy) or a positive number, got {t}"
        if k is not None and k < 1:
            return f"top-k must be at least 1, got {k}"
        if top_p is not None and not 0 < top_p <= 1:
            return f"top-p must be in (0, 1], got {top_p}"
        return None


GREEDY = Sampler()
# The app's samples until a key changes them: varied enough to show what a model writes.
APP_SAMPLER = Sampler(temperature=0.8, top_k=40)


@dataclass(frozen=True)
class Candidate:
    """One next token as the sampler saw it: the model's probability, then what each step
    of the sampler left of it (0 once a cut removed it)."""

    token_id: int
    text: str
    prob: float  # the model's own softmax (temperature 1)
    tempered: float  # after temperature (greedy: all of it on the most likely token)
    after_top_k: float
    final: float  # after top-p: the distribution the draw used
    # What removed it from the draw: "top-k", "top-p", "greedy" (only the most likely
    # token is ever taken), or "" (it could be drawn).
    cut: str = ""


@dataclass(frozen=True)
class TokenChoice:
    """Why one token of a sample is what it is: the candidates and the one drawn."""

    drawn_id: int
    drawn_text: str
    # The model's most likely tokens, most likely first, and the drawn one if it is not
    # among them.
    candidates: tuple[Candidate, ...]
    kept_by_top_k: int  # tokens left after top-k (the vocabulary if top-k is off)
    kept: int  # tokens left after top-p: the ones the draw could take
    drawn_rank: int = 1  # 1: the model's favourite; 2: its second choice, …


@dataclass(frozen=True)
class SampleText:
    stage: str
    step: int
    prompt: str
    text: str
    sampler: Sampler | None = None
    # One per generated token, for the "why this token" view.
    choices: tuple[TokenChoice, ...] = ()


@dataclass(frozen=True)
class Saved:
    path: str
    step: int
    stage: str = "pretrain"


@dataclass(frozen=True)
class StageCleared:
    """A later stage's run was reset: its tab is back to choosing a base model."""

    stage: str


@dataclass(frozen=True)
class EngineError:
    """Something went wrong in the trainer process; the message is one line for a person."""

    message: str
    fatal: bool = False


# --- UI → engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    pass


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    count: int = 1


@dataclass(frozen=True)
class SetSpeed:
    """A cap on steps per second; None runs flat out."""

    steps_per_second: float | None


@dataclass(frozen=True)
class Sample:
    prompt: str = ""
    max_new_tokens: int = 60
    # None: the app's default sampler, seeded by the step (a new sample each step).
    sampler: Sampler | None = None


@dataclass(frozen=True)
class Save:
    path: str | None = None


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class LossHistory:
    """Every loss point so far, for a screen that connects late or restarts."""

    points: tuple[tuple[int, float], ...] = field(default_factory=tuple)
    stage: str = "pretrain"


# --- the training loop, phase by phase ---------------------------------------------------

PHASES = ("sample", "tokenize", "forward", "loss", "backward", "update")


@dataclass(frozen=True)
class WordSplit:
    """How BPE cut one word of the display row: the pieces after each merge, bytes first."""

    start: int
    stop: int
    merges: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class WeightPatch:
    """A corner of one real weight matrix after the update, and what the update changed."""

    layer: str
    matrix: str
    values: tuple[tuple[float, ...], ...]
    deltas: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class HeadShares:
    """Where one attention head's weight went on the display row, averaged over the row's
    query positions from 2 on (model.head_roles names the role these shares earn). The
    three are disjoint parts of a query's weight, which sums to 1."""

    previous: float  # on the token just before the query ("previous-token head")
    sink: float  # on the row's first position ("sink")
    # On earlier copies of the query's own token, further back than the previous one and
    # not the first, averaged over the queries that have such a copy ("copying").
    copying: float


@dataclass(frozen=True)
class LoopFigures:
    """What one step computed so far, up to and including `phase`.

    Sent after each phase when stepping phase by phase, and complete in every StepReport.
    """

    step: int
    phase: str
    corpus_tokens: int = 0
    batch_shape: tuple[int, int] = (0, 0)
    # Where each row of the batch starts in the training split, in tokens.
    starts: tuple[int, ...] = ()
    row_ids: tuple[int, ...] = ()
    row_texts: tuple[str, ...] = ()
    words: tuple[WordSplit, ...] = ()
    # The first few numbers of the vector each row token enters Block 1 with (token + position).
    embeddings: tuple[tuple[float, ...], ...] = ()
    # Per block: every head's attention over the display row, heads × T × T bytes (head h's
    # query t starts at byte (h·T + t)·T), 255 = all of its weight. Bytes, not floats: 9
    # heads of a 128-token row are 147 KB a shown step, not 1.2 MB of pickled floats.
    head_attention: tuple[bytes, ...] = ()
    # Per block, per head: the shares of its weight that name its role.
    head_shares: tuple[tuple[HeadShares, ...], ...] = ()
    row: tuple[Position, ...] = ()
    loss: float | None = None
    grad_norm: float | None = None
    grad_norms: tuple[tuple[str, float], ...] = ()
    lr: float | None = None
    # The weight matrices that moved most this step, relative to their size.
    top_changes: tuple[tuple[str, float], ...] = ()
    patches: tuple[WeightPatch, ...] = ()


@dataclass(frozen=True)
class StepPhase:
    """Run only the next phase of the current step."""
