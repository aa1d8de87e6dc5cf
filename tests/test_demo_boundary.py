"""The demo data (partnership.demo: the generator and the defect injector) stays out of the warehouse's own code:
nothing that loads, checks, transforms or publishes imports it. Only the command line does (cli_run.py), for
`partnership run` and `partnership generate`, which make demo data."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugins" / "partnership"
MAY_IMPORT_DEMO = {PACKAGE / "cli_run.py"}


def demo_imports(path: Path) -> list[int]:
    """The line of each import of partnership.demo (or of a module inside it) in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            named = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            named = [a.name for a in node.names]
        else:
            continue
        if any(n == "partnership.demo" or n.startswith("partnership.demo.") for n in named):
            found.append(node.lineno)
    return found


def test_the_finder_sees_each_way_of_importing_the_demo(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import partnership.demo.generator\nfrom partnership.demo import defects\n"
        "def f():\n    from partnership.demo.generator import generate\nfrom partnership import loader\n"
    )
    assert sorted(demo_imports(module)) == [1, 2, 4]


def test_no_production_module_or_dag_imports_the_demo():
    modules = [p for p in PACKAGE.rglob("*.py") if "demo" not in p.relative_to(PACKAGE).parts[:1]]
    modules += list((ROOT / "dags").glob("*.py"))
    modules = [p for p in modules if p not in MAY_IMPORT_DEMO]
    assert len(modules) > 30
    assert [f"{path.relative_to(ROOT)}:{line}" for path in modules for line in demo_imports(path)] == []
