"""What crosses the process boundary between the trainer and the screen, as one namespace:
``from model import protocol as p`` then ``p.StepReport``, ``p.EvalTable``, ``p.CompareAsk``.

Plain, frozen, picklable dataclasses of Python numbers and strings, imported by name from
the modules that define them, so that a type checker follows every ``p.`` name:

  training      a run: step reports, samples, the loop's phases, the commands that drive it
  later_stages  the stages after pretraining: DPO pairs, RL batches, evals, hand-off, report
  compare       the Compare tab: the same prompts put to every model there is

Nothing here imports torch, so the UI process can use it.
"""

from model.protocol.compare import (
    COMPARE_STAGES,
    COMPARE_TOKENS,
    CompareAnswer,
    CompareAsk,
    CompareColumn,
    ComparePrompts,
    NearestPrompt,
)
from model.protocol.later_stages import (
    Activate,
    BaseModel,
    Cancel,
    EvalAnswer,
    EvalRow,
    EvalTable,
    Exported,
    ExportMetrics,
    FastForward,
    MakeReport,
    PairView,
    ProbeAnswers,
    ReportCard,
    ReportColumn,
    RLSample,
    RLView,
    RunEvals,
    StartStage,
)
from model.protocol.training import (
    APP_SAMPLER,
    GREEDY,
    PHASES,
    PLAYING_DRAW_INTERVAL,
    REPORT_INTERVAL,
    Alternative,
    Candidate,
    Divergence,
    EngineError,
    EngineReady,
    HeadShares,
    LayerStat,
    LoopFigures,
    LossHistory,
    Pause,
    Play,
    Position,
    Reset,
    Sample,
    Sampler,
    SampleText,
    Save,
    Saved,
    SetSpeed,
    Shutdown,
    StageCleared,
    Step,
    StepPhase,
    StepReport,
    TokenChoice,
    WeightPatch,
    WordSplit,
)

__all__ = [
    # training
    "PLAYING_DRAW_INTERVAL", "REPORT_INTERVAL", "Alternative", "Position", "LayerStat",
    "StepReport", "Divergence", "EngineReady", "Sampler", "GREEDY", "APP_SAMPLER", "Candidate",
    "TokenChoice", "SampleText", "Saved", "StageCleared", "EngineError", "Play", "Pause",
    "Step", "SetSpeed", "Sample", "Save", "Reset", "Shutdown", "LossHistory", "PHASES",
    "WordSplit", "WeightPatch", "HeadShares", "LoopFigures", "StepPhase",
    # later_stages
    "RLSample", "RLView", "PairView", "EvalRow", "EvalAnswer", "EvalTable", "ProbeAnswers",
    "BaseModel", "StartStage", "FastForward", "Cancel", "Activate", "RunEvals",
    "ReportColumn", "ReportCard", "MakeReport", "ExportMetrics", "Exported",
    # compare
    "COMPARE_STAGES", "COMPARE_TOKENS", "CompareAsk", "ComparePrompts", "CompareAnswer",
    "CompareColumn", "NearestPrompt",
]  # fmt: skip
