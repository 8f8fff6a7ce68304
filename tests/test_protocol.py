"""The protocol is one namespace, ``from model import protocol as p``, over three modules:
every message they define is a name of it, imported by name in its __init__, so that a type
checker follows ``p.EvalTable`` as the screen's code uses it (a module ``__getattr__`` that
looked names up at run time hid them from it)."""

from __future__ import annotations

import ast
from pathlib import Path

from model import protocol as p
from model.protocol import compare, later_stages, training

MODULES = (training, later_stages, compare)


def defined(module) -> set[str]:
    """The messages (classes) and constants a module defines, not those it imports."""
    names = set()
    for node in ast.parse(Path(module.__file__).read_text()).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()}
    return names


def test_every_message_of_the_protocol_modules_is_a_name_of_the_protocol():
    for module in MODULES:
        for name in defined(module):
            assert getattr(p, name, None) is getattr(module, name), f"p.{name} is not {module}"
    assert set(p.__all__) == set().union(*map(defined, MODULES))


def test_the_protocol_names_them_by_import_not_by_lookup():
    init = Path(p.__file__)
    tree = ast.parse(init.read_text())
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert set(p.__all__) <= imported
    assert "__getattr__" not in vars(p)
