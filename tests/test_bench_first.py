"""How `trainterm bench-ui` times a first screen: a terminal's rows followed from the
stream, and both apps' first screens seen in a pseudo-terminal."""

from __future__ import annotations

import pytest

from tui.bench.first_screen import BARE, LINES, ScreenRows, first_screen


def test_screen_rows_follow_a_stream_cut_anywhere():
    # What a full-screen app writes: the alternate screen, a clear, positioned runs of text
    # with colours, blank rows, a line feed; "│" is 3 bytes of UTF-8.
    stream = (
        "\x1b[?1049h\x1b[2J\x1b]0;title\x07\x1b[1;1H\x1b[38;5;12mstatus\x1b[0m"
        "\x1b[2;1H        \x1b[5;3H│ pane\x1b[7;1H\x1b[48;5;1m   \x1b[0m\r\nfooter"
    ).encode()
    for cut in range(len(stream) + 1):
        rows = ScreenRows(40)
        rows.feed(stream[:cut])
        rows.feed(stream[cut:])
        assert rows.drawn == {1, 5, 8}, cut


def test_screen_rows_start_again_on_a_cleared_screen():
    rows = ScreenRows(24)
    rows.feed(b"\x1b[3;1Hshell prompt\x1b[?1049h")
    assert rows.drawn == set()
    rows.feed(b"\x1b[30;1Hbelow the screen")
    assert rows.drawn == {24}


@pytest.mark.slow
def test_bench_ui_sees_both_first_screens():
    # The bare app must draw LINES lines (or bench-ui would wait for ever), and so must the
    # app: both, in a pseudo-terminal, as bench-ui launches them.
    assert LINES == 3
    for module in (BARE, "tui"):
        assert first_screen(module, [], timeout=120) > 0
