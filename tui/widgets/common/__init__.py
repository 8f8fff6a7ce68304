"""Panes and pieces more than one tab draws: the status line, the tab labels, the card line,
the loss chart, the token stream and the prediction (tabs 1 and 2), and the line-diffing base
the panes are drawn on."""
