"""The model and engine modules: the shape issue 11 asks for, and the model's own behaviour."""
from __future__ import annotations

import ast

from tests.dedup_fixtures import REPO


def test_only_the_engines_know_their_dialect():
    """SQL differences between DuckDB and Spark are engine methods: no other
    module of the job reads ``.dialect`` or checks an engine's class to choose SQL."""
    offenders = []
    for path in sorted((REPO / "glue_jobs").rglob("*.py")):
        if path.name == "engines.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "dialect":
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
                    and "Engine" in ast.unparse(node.args[1])):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders
