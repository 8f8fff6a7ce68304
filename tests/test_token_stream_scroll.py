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


async def test_a_new_batch_is_shown_alike_whatever_the_pane_showed_before(recording):
    """Where the pane was scrolled to for an earlier batch (the cursor taken to its end, say)
    does not change how a new batch is shown: the app draws only some of the batches it
    is sent while playing, so that history differs from run to run."""
    rows = [report.row for report in recording.reports]
    last, middle = rows[-1], len(rows[-1]) // 2
    app = OnePane(last)
    async with app.run_test(size=(46, 30)) as pilot:
        stream = app.query_one(TokenStream)
        stream.styles.height = 6
        await pilot.pause()
        direct = stream.lines()
        for row in rows[:-1]:
            stream.row = row
            stream.cursor = len(row) - 1  # scrolled to its end
            await pilot.pause()
            stream.lines()
            stream.row = last
            stream.cursor = middle
            await pilot.pause()
            assert stream.lines() == direct


async def test_moving_the_cursor_scrolls_as_little_as_it_can(recording):
    app = OnePane(recording.reports[-1].row)
    async with app.run_test(size=(46, 30)) as pilot:
        stream = app.query_one(TokenStream)
        stream.styles.height = 6  # three lines of chips

        async def moved(delta: int) -> int:
            stream.move(delta)
            await pilot.pause()
            stream.lines()
            return stream._top

        stream.cursor = 0
        await pilot.pause()
        assert await moved(0) == 0
        top = 0
        while top == 0:  # down until the pane must scroll
            top = await moved(1)
        assert top == 1
        assert await moved(-1) == 1, "one back is still on screen: no scroll to the top"
