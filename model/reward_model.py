"""A reward model: the GPT with a scalar head beside its language-model head.

As TRL's AutoModelForSequenceClassification with one label, the reward of a conversation
is the head's value at its last token (here the answer's closing <|end|>, which has seen
the whole answer). The language-model head stays (it is the tied embedding, no extra
weights), so the loop's display figures, sampling and `ask` work on it as on any stage.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from model.gpt import GPT, GPTConfig


class RewardGPT(GPT):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__(config)
        self.score = nn.Linear(config.d_model, 1)
        # Zero: every answer starts at reward 0, so the first loss is exactly ln 2 and any
        # preference the model shows is one it learnt.
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)
        # (input, values per position (B, T)) of the last forward: the loop runs one forward
        # a step for the logits, and the stage's loss reads the rewards from that same pass.
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def from_model(cls, model: GPT) -> RewardGPT:
        """A reward model on ``model``'s weights (a copy); a reward model is returned as is."""
        if isinstance(model, RewardGPT):
            return model
        reward = cls(model.config)
        missing, unexpected = reward.load_state_dict(model.state_dict(), strict=False)
        assert not unexpected and all(k.startswith("score.") for k in missing), missing
        return reward

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        if T > self.config.context:
            raise ValueError(f"sequence of {T} tokens exceeds the context of {self.config.context}")
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        h = self.ln_f(x)  # (B, T, C)
        self._last = (idx, self.score(h).squeeze(-1))
        return self.head(h)

    def values(self, idx: torch.Tensor) -> torch.Tensor:
        """The head's value at every position of ``idx``, (B, T): the last forward's if it
        ran on ``idx`` (taken once, so no graph stays on the module, which deepcopy would
        refuse), else a forward now."""
        if self._last is None or self._last[0] is not idx:
            self(idx)
        values = self._last[1]
        self._last = None
        return values

    def rewards(self, idx: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """The reward of each row, read at its position ``last`` (B,): padding after it,
        which causal attention never lets an earlier position see, changes nothing."""
        return read_at(self.values(idx), last)


def read_at(values: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """values[b, last[b]] for every row, (B,)."""
    return values.gather(1, last[:, None]).squeeze(1)
