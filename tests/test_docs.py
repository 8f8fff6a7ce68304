"""The README stays a five-minute read, and what it, the docs and the code point to exists: a
doc renamed or a heading reworded breaks a link here, not silently for a reader."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "scenarios" / "FORMAT.md"]
CODE = [p for d in ("tui", "model", "scenarios", "tests") for p in (ROOT / d).rglob("*.py")]

# ](target) of a link or an image; the text before it may span lines.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces → -."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)  # a '# comment' is no heading
    return {slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_the_readme_is_a_five_minute_read():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines: move the detail to docs/"


def test_every_link_of_the_readme_and_the_docs_resolves():
    broken = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            if not file.is_file():
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_the_readme_shows_the_screen():
    assert "](docs/screen.svg)" in README.read_text()
    assert (ROOT / "docs" / "screen.svg").read_text().startswith("<svg")


def test_code_points_to_docs_that_exist_and_not_to_readme_sections():
    wrong = []
    for file in CODE:
        for n, line in enumerate(file.read_text().splitlines(), 1):
            where = f"{file.relative_to(ROOT)}:{n}"
            for doc in re.findall(r"\bdocs/[\w./-]+\.md\b", line):
                if not (ROOT / doc).is_file():
                    wrong.append(f"{where} names {doc}, which does not exist")
            # A pointer to the README in brackets, or to a quoted section of it: the README
            # keeps no measurements or design notes for a comment to cite.
            if re.search(r"\(README\)|README,? \"", line):
                wrong.append(f"{where} points to a README section: point to docs/ instead")
    assert not wrong, wrong
