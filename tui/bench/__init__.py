"""The app measured: `trainterm bench-ui` (the first screen against a bare Textual app, bytes
to the terminal, steps/s, event-loop lag; `--soak` for memory over a long run) and
`trainterm bench-serve` (page open, sessions at once, memory per session)."""
