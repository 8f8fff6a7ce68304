"""The three stages of making an assistant, in plain words: the cards on the stage tabs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageCard:
    key: str  # the tab's stage (tab 3: "preference"; RLHF_CARD: "rlhf")
    number: int
    title: str
    input: str
    objective: str
    produces: str
    sentence: str
    # The objective in a few words, for the one-line card above a running stage.
    short_objective: str = ""

    @property
    def tab_label(self) -> str:
        return f"{self.number} {self.title}"


CARDS: tuple[StageCard, ...] = (
    StageCard(
        key="pretrain",
        number=1,
        title="Pretraining",
        input="raw text, cut into windows of tokens",
        objective="predict the next token at every position (cross-entropy: −log p of the "
        "token that really came next)",
        produces="a base model that continues text",
        sentence="The model reads plain text and learns to guess each next token; everything it "
        "picks up about words and facts ends up in its weights.",
        short_objective="predict the next token (cross-entropy)",
    ),
    StageCard(
        key="sft",
        number=2,
        title="Fine-tuning",
        input="pairs of a prompt and an ideal answer",
        objective="the same next-token loss, but only on the answer tokens: the prompt is "
        "context to read, not text to predict",
        produces="an instruct model that answers",
        sentence="Shown many questions with good answers, the base model learns to answer a "
        "question instead of just continuing the text.",
        short_objective="next-token loss on the answer tokens only",
    ),
    StageCard(
        key="preference",
        number=3,
        title="Preference",
        input="a prompt with two answers: one chosen as better, one rejected",
        objective="DPO: make the chosen answer more likely than the rejected one, measured "
        "against a frozen copy of the fine-tuned model (or RLHF: a reward model + RL)",
        produces="an assistant with taste",
        sentence="People's preferences between two answers teach the model which of the things "
        "it could say are better: more helpful, more honest, kinder.",
        short_objective="DPO: chosen more likely than rejected, against a frozen reference",
    ),
)

# Tab 3's other method (m switches to it): the same tab, its own card.
RLHF_CARD = StageCard(
    key="rlhf",
    number=3,
    title="Preference",
    input="the same pairs train a reward model; then prompts alone, answered by the model",
    objective="a reward model learns to score the chosen answer above the rejected "
    "(Bradley–Terry); then RL (RLOO) makes the model's own sampled answers score higher, "
    "less β × their KL to the fine-tuned model",
    produces="an assistant with taste — or one that pleases the reward model",
    sentence="A learnt judge stands in for people, and the model practises on it: it gets "
    "better at whatever the judge rewards, which is not always what people meant.",
    short_objective="RLHF: reward model, then RL on its scores − β·KL",
)
