"""The batch pane shows the same chips at a given size whatever sizes it passed through:
a pane that was briefly shorter while the screen settled once kept its scroll, and a
screenshot of the same state differed from run to run."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.common.token_stream import TokenStream


class OnePane(App[None]):
    def __init__(self, row) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        yield TokenStream()

    def on_mount(self) -> None:
        stream = self.query_one(TokenStream)
        stream.row = self.row
        stream.cursor = len(self.row) // 2


async def shown_at(row, heights: list[int]) -> list[str]:
    app = OnePane(row)
    async with app.run_test(size=(46, 30)) as pilot:
        stream = app.query_one(TokenStream)
        for height in heights:
            stream.styles.height = height
            await pilot.pause()
            await pilot.pause()
        return stream.lines()


async def test_the_chips_shown_depend_on_the_size_not_on_the_way_there(recording):
    row = recording.reports[-1].row
    direct = await shown_at(row, [8])
    assert await shown_at(row, [4, 8]) == direct
    assert await shown_at(row, [16, 4, 8]) == direct
