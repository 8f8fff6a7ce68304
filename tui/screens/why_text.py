"""The "why this token" view's words and table, from what the engine recorded while it drew
a sample: each position's candidates before and after temperature, top-k and top-p."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from model.protocol import Candidate, Sampler, SampleText, TokenChoice
from tui.sampler import words
from tui.widgets.common.formatting import bar, token_display

DIM = Style(dim=True)
BOLD = Style(bold=True)
PICKED = Style(bold=True, reverse=True)
CUT = Style(dim=True, strike=True)


def surprising(sample: SampleText) -> int:
    """The first position where the sampler did not take the model's favourite (the one
    worth explaining), else the first."""
    for i, choice in enumerate(sample.choices):
        if choice.candidates and choice.drawn_id != choice.candidates[0].token_id:
            return i
    return 0


def _drawn(choice: TokenChoice) -> Candidate:
    return next(c for c in choice.candidates if c.token_id == choice.drawn_id)


def sample_line(sample: SampleText, position: int) -> Text:
    """The prompt, dim, then the sample token by token, the chosen position highlighted."""
    text = Text()
    if sample.prompt:
        text.append(sample.prompt, DIM)
    for i, choice in enumerate(sample.choices):
        shown = token_display(choice.drawn_text, chip=False) or "∅"
        if i == position:
            text.append(token_display(choice.drawn_text) or "∅", PICKED)
        elif choice.drawn_id != choice.candidates[0].token_id:
            text.append(shown, Style(underline=True))  # not the favourite: worth a look
        else:
            text.append(shown)
    return text


def _cell(prob: float, cut: bool) -> Text:
    if cut:
        return Text("cut", DIM)
    return Text(f"{100 * prob:5.1f}%")


def _head(title: str, keys: str) -> Text:
    return Text.assemble((title, BOLD), (f" {keys}", DIM))


def shown(choice: TokenChoice, limit: int) -> tuple[Candidate, ...]:
    """The ``limit`` most likely candidates, and the drawn one wherever it ranks."""
    top = choice.candidates[:limit]
    if any(c.token_id == choice.drawn_id for c in top):
        return top
    return (*top[: max(0, limit - 1)], _drawn(choice))


def candidate_table(choice: TokenChoice, sampler: Sampler, limit: int = 9) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("token")
    table.add_column("model", justify="right")
    greedy = sampler.greedy
    if greedy:
        table.add_column(_head("greedy", "0"), justify="right")
    else:
        k = "off" if sampler.top_k is None else str(sampler.top_k)
        p = "off" if sampler.top_p is None else f"{sampler.top_p:g}"
        table.add_column(_head(f"÷ T {sampler.temperature:g}", "t T"), justify="right")
        table.add_column(_head(f"top-k {k}", "k K"), justify="right")
        table.add_column(_head(f"top-p {p}", "u U"), justify="right")
    table.add_column("the draw", min_width=10)
    for c in shown(choice, limit):
        picked = c.token_id == choice.drawn_id
        name = Text(token_display(c.text) or "∅", CUT if c.cut else "")
        if picked:
            name.stylize(PICKED)
        row = [name, Text(f"{100 * c.prob:5.1f}%")]
        if greedy:
            row.append(_cell(c.final, bool(c.cut)))
        else:
            row.append(Text(f"{100 * c.tempered:5.1f}%"))
            row.append(_cell(c.after_top_k, c.cut == "top-k"))
            row.append(_cell(c.final, bool(c.cut)))
        draw = Text(bar(c.final, 8), BOLD if picked else DIM)
        if picked:
            draw.append(" ◀ drawn", BOLD)
        row.append(draw)
        table.add_row(*row)
    return table


def _pct(x: float) -> str:
    # Below 10 % a whole percent hides the change temperature makes (1 % → 1 %).
    return f"{100 * x:.1f}%" if x < 0.095 else f"{x:.0%}"


def _quoted(text: str) -> str:
    return f"“{token_display(text, chip=False)}”"


def reason(choice: TokenChoice, sampler: Sampler) -> Text:
    """In a sentence or three: why this token and not the model's favourite."""
    best, drawn = choice.candidates[0], _drawn(choice)
    name = _quoted(drawn.text)
    out = Text()
    if sampler.greedy:
        out.append(f"Greedy takes the most likely token, always: {name} ({_pct(drawn.prob)}).")
        return out
    t = sampler.temperature
    if t == 1:
        out.append("Temperature 1 leaves the model's distribution as it is. ")
    else:
        shape = "sharpens" if t < 1 else "flattens"
        out.append(
            f"Temperature {t:g} {shape} the model's distribution: its favourite "
            f"{_quoted(best.text)} goes from {_pct(best.prob)} to {_pct(best.tempered)}. "
        )
    cuts = []
    if sampler.top_k is not None:
        cuts.append(f"top-k keeps the {choice.kept_by_top_k} most likely")
    if sampler.top_p is not None:
        cuts.append(f"top-p keeps the {choice.kept} that hold {_pct(sampler.top_p)} of it")
    if cuts:
        said = " and ".join(cuts)
        out.append(f"{said[0].upper()}{said[1:]}: {choice.kept} tokens can be drawn. ")
    if drawn.token_id == best.token_id:
        out.append(f"This draw took the favourite, as {_pct(best.final)} of draws would.", BOLD)
    else:
        where = f"the model's choice number {choice.drawn_rank}"
        rest = _pct(1 - best.final)
        out.append(
            f"The favourite gets {_pct(best.final)} of the draw, so {rest} of draws "
            f"take another token; this one (seed {sampler.seed}) took {name}, {where}, with "
            f"{_pct(drawn.final)} of the draw.",
            BOLD,
        )
    return out


def why_body(sample: SampleText, position: int, limit: int = 9) -> Group:
    sampler = sample.sampler or Sampler()
    parts: list = [sample_line(sample, position), Text()]
    if not sample.choices:
        parts.append(Text("The model wrote nothing: its first token ended the text.", DIM))
        return Group(*parts)
    choice = sample.choices[position]
    head = Text(f"Token {position + 1} of {len(sample.choices)}: ", BOLD)
    head.append(words(sampler), DIM)
    parts += [head, candidate_table(choice, sampler, limit), Text(), reason(choice, sampler)]
    return Group(*parts)
