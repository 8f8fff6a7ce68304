"""? — every pane explained in plain words, and the keys."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keys
from tui.stage_cards import CARDS

PANES = (
    (
        "What is happening",
        "A small GPT (a language model) is learning from text, live. Each step it reads a "
        "batch of text windows, guesses every next token, measures how wrong it was (the "
        "loss) and nudges all its weights a little to be less wrong next time. Nothing here "
        "is canned: every number comes from the trainer running in a second process.",
    ),
    (
        "Training loop",
        "The ring under the tabs is one training step, the way data travels: the corpus is "
        "sampled into a batch, the tokenizer turns it into ids, the embedding and the blocks "
        "compute, the logits become a prediction, the loss scores it, the gradients flow "
        "back and the optimizer nudges every weight. Each box shows this step's figure. "
        "Tab selects the ring, ← → follow the data round it, Enter (or a click) asks a box "
        "what it is doing, with this step's numbers. p runs one phase at a time, so you can "
        "follow a single batch all the way round; at 1 or 2 steps/s playing does the same.",
    ),
    (
        "Weights",
        "On a tall terminal, a corner (8×8) of one real weight matrix: blue negative, red "
        "positive, and beside it what the last step changed. Selecting Embed, a Block or "
        "Logits in the ring picks which matrix. This is what learning is: these numbers move.",
    ),
    (
        "Batch",
        "One window of the text the model just trained on, cut into tokens: the pieces of "
        "text the model reads, each with its id number beneath. Each token is coloured by "
        "how surprised the model was to see it: green means it expected it, red means it "
        "did not. The highlighted token is the one the cursor selects (← → or a click).",
    ),
    (
        "Next-token prediction",
        "For the selected token: the text before it (the context, all the model could see), "
        "the model's top guesses for what comes next with their probabilities, and the token "
        "that really came next (← actual). The loss at this position is −log p of the "
        "actual token: 0 when the model was certain and right, large when it was surprised.",
    ),
    (
        "Attention",
        "How the model uses the context: from the token under the cursor, where each head "
        "of one block looked, the context's tokens shaded by how much weight they got. Each "
        "head turns the tokens into queries and keys, and a query's matches with the earlier "
        "keys become weights that sum to 1: what the head brings back is that weighted mix. "
        "Beside each head, measured this step over the whole row: its share of weight on the "
        "token just before (prev), on the first token (sink, where a head with nothing to "
        "find parks its weight) and on earlier copies of the same token (copy). Over half "
        "on one of them names the head's role, and when a head first becomes a "
        "previous-token head the pane says so, with the step. a and A step through the "
        "heads of every block. On a terminal under 34 rows the pane folds into the "
        "Next-token pane's bottom line, and a opens it over the screen.",
    ),
    (
        "Loss",
        "The average loss over the batch, step after step. The little line on top shows "
        "the most recent steps; the chart shows the whole run: training loss (the line) and "
        "validation loss (the dots), measured on text the model never trains on. When "
        "validation stops falling while training keeps falling, the model is memorising.",
    ),
    (
        "Model",
        "The weights are the model. Embed turns token ids into vectors, each Block mixes "
        "in information from earlier tokens (attention) and thinks about it (an MLP), "
        "Logits turns the result into a score for every token in the vocabulary. The bar "
        "shows how much the last step changed each part, relative to its size (log scale; "
        "around 1e-3 is healthy); the number after it is the gradient's size. Below: the "
        "optimizer (AdamW, or Muon for the blocks' matrices where the scenario asks for it: "
        "the world does), the learning rate with its schedule (warm up, then slowly "
        "cool down; the marked point is now), the step and how many tokens were read.",
    ),
    (
        "What it costs",
        "A step costs about 6 floating-point operations per parameter per token (2 for a "
        "multiply-add, forward, and twice that backward), plus attention's share, which no "
        "weight counts: the Model pane shows this step's FLOPs and the run's so far, and "
        "while training the status line shows the FLOP/s reached and the MFU, its share of "
        "what this machine's matrix multiplications can do. The optimizer's box in the ring "
        "puts the run beside GPT-3: how many powers of ten more it took, and how many years "
        "this machine would need for it. `trainterm scaling` trains several sizes and fits "
        "how the loss falls with size.",
    ),
    (
        "Stages",
        "Making an assistant takes three stages; the tabs (1 2 3) show each stage's card: "
        "what data goes in, what the model is trained to do, what comes out. All three "
        "train here, each from the one before it.",
    ),
    (
        "Fine-tuning",
        "Tab 2 starts from a base model: the finished pretraining run if this machine has "
        "one cached, else the model of tab 1 as it is now (f fast-forwards tab 1 to its end "
        "first, headless, and caches it). Enter starts. The batch is one conversation in the "
        "chat template: the system and user turns and the template's tokens are dimmed, "
        "marked no loss, because the model reads them but is not trained to write them; "
        "only the answer and its closing <|end|> are coloured by their loss. The loss chart "
        "adds the pretraining validation loss (◆): when it climbs, fine-tuning is making the "
        "model forget its text. The evals table compares the base model with the model now "
        "(format, facts of countries fine-tuning covers, facts only pretraining saw, and "
        "places that exist nowhere); the probes (v) show both models' answers side by side.",
    ),
    (
        "Preference tuning",
        "Tab 3 starts from the fine-tuned model, by one of two methods (m switches). DPO "
        "trains on the chosen / rejected pairs directly: the pair pane marks each answer "
        "token by how much more (green) or less (red) likely the model now makes it than "
        "the frozen fine-tuned copy does. RLHF first trains a reward model on the same "
        "pairs (a scalar head scoring a whole answer; live, unless this machine has one "
        "cached), then RL: the model answers each prompt k times, the reward model scores "
        "the answers, and each answer's reward is its score less β × its KL to the "
        "fine-tuned model; an answer better than its siblings (advantage A > 0) is made "
        "more likely. The chart plots the reward model's score and a gold judge's, a rule "
        "that knows the world's truth. o runs RL with β 0 at lr ×3: nothing holds it near "
        "the fine-tuned one, and when the two lines part the model is pleasing the reward "
        "model rather than being good (over-optimisation). If the answers collapse "
        "(all alike, looping, or the KL running away) the run pauses and says what to change. "
        "The evals' 'refuses new harm' row is the hard one: `trainterm harm-curve` measured "
        "DPO refusing the 5 kinds of harm no training file has 0 % of the time with 1 kind "
        "trained, 15 % with 3, 30 % with 6 and 28 % with all 10 (medians of 3 seeds), and "
        "all but one of those refusals named another harm than the one asked about: at this "
        "size the model recites a trained kind's refusal on a request of the same shape.",
    ),
    (
        "Compare",
        "Tab 4 puts the scenario's probes, and your own question (/ to type it, enter asks, "
        "esc goes back), to every model there is, side by side: the base model, the "
        "fine-tuned one, DPO's and RLHF's. Each is its tab's run as it is now once it has "
        "trained, else the finished run cached on this machine; a model that does not exist "
        "yet is a column that says which tab and key make it. Every model draws with the "
        "sampler of the status line and the same seed, so the columns differ only by their "
        "weights. The base model never saw the chat template: it is asked as its "
        "pretraining text asks (Q: … A:) and answers with its first line. Each token is "
        "coloured by the probability its model gave it, green sure to red unsure, and "
        "underlined where the sampler did not take the model's favourite (without colour, "
        "bars ▁…█ under the text); a dim … means the 40-token budget cut the answer "
        "short. ← → select a token, ↑ ↓ a prompt, tab a model (or "
        "click a token): the pane below shows what else that model could have said there. "
        "w explains the draw in full, x exports the answers, g asks again.",
    ),
    (
        "Sampling",
        "A model gives a probability to every possible next token; the sampler picks one, "
        "again and again. Greedy (0, or temperature 0) always takes the most likely: the "
        "same text every time, often stuck in a loop. Temperature (t hotter, T cooler) "
        "divides the model's scores before they become probabilities: below 1 the "
        "favourite gets more, above 1 the long shots do. Top-k (k K) then keeps only the k "
        "most likely tokens, top-p (u U) the fewest whose probabilities add up to p; one "
        "draw from what is left, seeded (d D), picks the token, so the same seed gives the "
        "same sample. The status line says the sampler (T0.8 k40 seed 0: temperature 0.8, "
        "top-k 40, top-p off, seed 0); w shows a sample token by token, each with the "
        "model's distribution before and after each step and the token drawn: why the "
        "sampler did not take the most likely one. The evals and probes stay greedy.",
    ),
    (
        "Status line",
        "Play state, step out of the planned total, the latest loss, the sampler, the "
        "speed cap (+ and -), the scenario (which text the model learns from) and the "
        "stage. If the loss ever stops being a number, training stops and the line turns "
        "red.",
    ),
)

# The line under the text: its own keys, said the same way.
FOOT = keys.row(
    "scroll · close", keys.on("scroll", "scroll_up", "scroll_down"), keys.on("help", "close")
)


def key_rows(lookup: keys.Lookup) -> list[tuple[str, str]]:
    """The keys, as the App and the main screen's widgets bind them, with their words."""
    return [(lookup.cell(row), row.text) for row in keys.HELP]


def help_text(lookup: keys.Lookup) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for title, body in PANES:
        table.add_row(title, body)
        table.add_row("", "")
    for card in CARDS:
        table.add_row(
            f"  {card.number} {card.title}",
            Text.assemble(
                ("input ", "dim"),
                card.input,
                ("; objective ", "dim"),
                card.objective,
                ("; produces ", "dim"),
                card.produces,
                ".",
            ),
        )
    table.add_row("", "")
    for key, action in key_rows(lookup):
        table.add_row(Text(key, "bold reverse"), action)
    return table


class HelpScreen(ModalScreen[None]):
    # The app focuses nothing (its keys are all its own); here ↑ ↓ must reach the text.
    AUTO_FOCUS = "VerticalScroll"
    BINDINGS = [Binding("escape,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        lookup = keys.Lookup(type(self.app))
        with Vertical(classes="dialog -help"):
            yield Static("trainterm · what you are looking at", classes="dialog-title")
            with VerticalScroll():
                yield Static(help_text(lookup))
            yield Static(lookup.line(FOOT), classes="dialog-keys")

    def action_close(self) -> None:
        self.dismiss(None)
