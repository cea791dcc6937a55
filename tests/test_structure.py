"""The structure the design promises, checked on the source (DESIGN.md "Which way the
imports go"): only a repository's package names its kind; ``sandbox/`` and ``deposits/``
never import each other; no import circle among module-level imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"zenodo", "datameta", "coscine", "cristin"}
TEMPLATE_KIND = re.compile(r"""\{%[^%]*\bkind\b[^%]*(==|!=)\s*["'](\w+)["'][^%]*%\}""")


def sources(*tops: str) -> list[Path]:
    return [
        p for top in tops for p in sorted((ROOT / top).rglob("*.py")) if "migrations" not in p.parts
    ]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def kind_comparisons(source: str) -> list[int]:
    """Lines where a repository kind is compared with a string literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        for side in [node.left, *node.comparators]:
            values = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
            if any(isinstance(v, ast.Constant) and v.value in KINDS for v in values):
                found.append(node.lineno)
    return found


def imports(path: Path, *, module_level_only: bool) -> set[str]:
    """The modules ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text())
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                up = parts[: len(parts) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def test_the_checkers_find_what_they_look_for() -> None:
    assert kind_comparisons('if account.kind == "datameta": pass') == [1]
    assert kind_comparisons('if kind in ("zenodo", "x"): pass') == [1]
    assert kind_comparisons('if event.kind == "metadata_edited": pass') == []
    assert TEMPLATE_KIND.search('{% if card.target.account.kind == "datameta" %}')


def test_only_a_repositorys_package_names_its_kind() -> None:
    found = []
    for path in sources("deposits", "portal"):
        if "repositories" in path.relative_to(ROOT).parts:
            continue
        found += [f"{path.relative_to(ROOT)}:{n}" for n in kind_comparisons(path.read_text())]
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            match = TEMPLATE_KIND.search(line)
            if match and match.group(2) in KINDS:
                found.append(f"{path.relative_to(ROOT)}:{n}")
    assert not found, f"repository kinds compared outside their packages: {found}"


def test_sandbox_and_deposits_never_import_each_other() -> None:
    crossing = []
    for top, other in (("sandbox", "deposits"), ("deposits", "sandbox")):
        for path in sources(top):
            if any(
                m == other or m.startswith(f"{other}.")
                for m in imports(path, module_level_only=False)
            ):
                crossing.append(str(path.relative_to(ROOT)))
    assert not crossing, f"sandbox/ and deposits/ import each other: {crossing}"


def test_there_is_no_import_circle_among_module_level_imports() -> None:
    known = {module_name(p): p for p in sources("deposits", "portal", "sandbox")}
    graph = {
        name: {m for m in imports(path, module_level_only=True) if m in known and m != name}
        for name, path in known.items()
    }
    circles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join([*trail, start]))
                elif nxt not in trail and len(trail) < 12:
                    stack.append((nxt, [*trail, nxt]))
        if circles:
            break
    assert not circles, f"import circle: {circles[0]}"
