"""The import contracts (pyproject.toml, [tool.importlinter]; docs/architecture.md) hold:
a forbidden import or a cycle fails the suite."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_config_is_the_bottom_layer():
    """config.py is a module, which import-linter cannot take as a root package: it imports
    none of the layers above it (app, classifiers, models)."""
    tree = ast.parse((ROOT / "config.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert not imported & {"app", "classifiers", "models"}
