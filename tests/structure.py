"""Checkers for the structure DESIGN.md promises ("Which way the imports go"), read from
the source with ``ast`` alone: nothing here imports the code it checks, so a module that
fails to import, or imports lazily, is checked all the same. ``test_structure.py`` runs
them on the tree and on small in-memory sources (a checker that finds nothing because it
is broken must fail too).

A tree is ``{relative path: source}``, e.g. ``{"pkg/__init__.py": "", "pkg/sub.py": ...}``;
``read_tree`` builds one from disk. Module names come from the paths:
``pkg/__init__.py`` is the module ``pkg`` (the package's ``__init__``).

What counts as an import (every checker sees all of them)
    ``import a.b``, ``from a.b import c``, relative imports (resolved against the
    module's package), wherever they are: at module level, under ``if TYPE_CHECKING:``,
    in ``try:``, inside functions and methods. A deferred import still makes the
    dependency; it only hides it from Python until the function runs. Calls with a
    literal name, ``importlib.import_module("a.b")``, ``__import__("a.b")`` and Django's
    ``include("a.urls")``, count too (``include`` imports the URLconf when the calling
    module is loaded). A name built at run time (``import_module(f"{package}.web")``)
    cannot be read from the source and is not counted.

Which module an import points at (for the import graph)
    - ``import a.b.c`` and ``from a.b.c import name`` point at ``a.b.c``, except that
      ``from a.b import c``, where ``a/b/c.py`` (or ``a/b/c/__init__.py``) exists, points
      at the submodule ``a.b.c`` and not at ``a.b``'s ``__init__``: that is
      ``from deposits.repositories import registry``. When ``c`` is not a submodule, it is
      a name defined by (or re-exported from) ``a/b/__init__.py``, and the import points
      at ``a.b``.
    - Importing ``a.b.c`` also runs the ``__init__`` of each parent package (``a``,
      ``a.b``), so it points at those too, with one exception: a parent package that
      contains the importing module. Python has started that package's ``__init__``
      before the importing module could run at all, and a submodule import only needs
      the parent to be in ``sys.modules``, not finished. So ``deposits/lifecycle/drafts.py``
      doing ``from .states import Conflict`` points at ``deposits.lifecycle.states`` only,
      and a package ``__init__`` re-exporting its own submodules
      (``deposits/lifecycle/__init__.py`` importing ``.drafts``) is no circle by itself.
      It becomes one when the submodule really imports its package's ``__init__``:
      ``from deposits.lifecycle import transition`` (or ``from . import transition``)
      inside ``deposits/lifecycle/drafts.py``, where ``transition`` is not a submodule,
      or ``import deposits.lifecycle`` there (which reads names off the package).
    - Only modules of the tree are nodes; imports of anything else (Django, the standard
      library) are left out.

What counts as a circle
    A strongly connected component of that graph with more than one module, or a module
    that explicitly imports itself. Each is reported with its modules, and with cycles
    through it that together use every import inside it, each import with its file, line
    and where it sits (module level, ``if TYPE_CHECKING:``, in a function), so the line
    to change can be found at once.

Naming a repository kind (``kind_comparisons``, ``template_kind_comparisons``)
    Python: a comparison (``==``, ``!=``, ``in``, ``not in``, ``is``, ``is not``) with a
    kind as a string literal, alone or in a tuple, list or set of literals
    (``account.kind == "datameta"``, ``kind in ("zenodo", "x")``), or with an attribute
    of ``RepositoryKind`` (``RepositoryKind.ZENODO``, ``models.RepositoryKind.ZENODO``);
    and a ``match`` whose ``case`` is such a value. Templates: an ``{% if %}`` or
    ``{% elif %}`` whose operand next to ``==``, ``!=``, ``in`` or ``not in`` is a string
    literal naming a kind (``{% if x.kind == "datameta" %}``); a literal that is a filter's
    argument (``x|default:"zenodo"``) is no comparison. Not flagged: dispatch through a
    dict keyed by kind, and a kind in a plain string or docstring; they are not
    comparisons.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

KINDS = frozenset({"zenodo", "datameta", "coscine", "cristin"})
KIND_ENUM = "RepositoryKind"
DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__", "include"})


@dataclass(frozen=True)
class Import:
    """One imported module name, absolute, as the statement names it."""

    name: str
    # ``from name import <these>``; empty for ``import name`` and for dynamic imports.
    names: tuple[str, ...]
    line: int
    where: str  # "module level", "if TYPE_CHECKING", "in f()", "dynamic, in f()"


@dataclass(frozen=True)
class Edge:
    path: str
    line: int
    where: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.where})"


def read_tree(root: Path, tops: tuple[str, ...]) -> dict[str, str]:
    """Every ``.py`` file under the ``tops`` folders of ``root``, but migrations."""
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for top in tops
        for path in sorted((root / top).rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    }


def module_name(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: str) -> str:
    """The package relative imports in ``path`` start from."""
    name = module_name(path)
    return name if path.endswith("/__init__.py") else name.rpartition(".")[0]


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        raise ValueError(f"relative import beyond the top package at line {node.lineno}")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _literal_name(call: ast.Call) -> str | None:
    """``"a.b"`` of ``import_module("a.b")``, ``__import__("a.b")``, ``include("a.b")``."""
    func = call.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if called not in DYNAMIC_IMPORTERS or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, package: str) -> None:
        self.package = package
        self.found: list[Import] = []
        self.context: list[str] = []

    def _where(self) -> str:
        return self.context[-1] if self.context else "module level"

    def _in(self, label: str, node: ast.AST) -> None:
        self.context.append(label)
        self.generic_visit(node)
        self.context.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in(f"in {node.name}()", node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in(f"in {node.name}()", node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in("in a lambda", node)

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        self.context.append(
            "if TYPE_CHECKING" if not self.context else f"{self._where()}, TYPE_CHECKING"
        )
        for child in node.body:
            self.visit(child)
        self.context.pop()
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(Import(alias.name, (), node.lineno, self._where()))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in node.names)
        base = _resolve(node, self.package)
        self.found.append(Import(base, names, node.lineno, self._where()))

    def visit_Call(self, node: ast.Call) -> None:
        name = _literal_name(node)
        if name:
            self.found.append(Import(name, (), node.lineno, f"dynamic, {self._where()}"))
        self.generic_visit(node)


def imports_in(path: str, source: str) -> list[Import]:
    """Every import in one file (see the module docstring for what counts)."""
    collector = _Collector(_package_of(path))
    collector.visit(ast.parse(source, filename=path))
    return collector.found


# -- sandbox/ and deposits/ -------------------------------------------------------------


def _names(imp: Import) -> list[str]:
    return [imp.name, *(f"{imp.name}.{n}" for n in imp.names if n != "*")]


def crossings(tree: dict[str, str], pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """``path:line (where): name`` for each import from a ``top`` into its ``other``."""
    found = []
    for path, source in sorted(tree.items()):
        for top, other in pairs:
            if path.split("/")[0] != top:
                continue
            for imp in imports_in(path, source):
                hits = [n for n in _names(imp) if n == other or n.startswith(f"{other}.")]
                if hits:
                    found.append(f"{path}:{imp.line} ({imp.where}): imports {hits[0]}")
    return found


# -- the import graph -------------------------------------------------------------------


def import_graph(tree: dict[str, str]) -> dict[str, dict[str, list[Edge]]]:
    """module -> {module it imports: the import statements that make the edge}."""
    known = {module_name(p) for p in tree}
    graph: dict[str, dict[str, list[Edge]]] = {m: defaultdict(list) for m in known}
    for path, source in tree.items():
        me = module_name(path)
        for imp in imports_in(path, source):
            submodules = [f"{imp.name}.{n}" for n in imp.names if f"{imp.name}.{n}" in known]
            explicit = set(submodules)
            # ``import a.b``, ``from a.b import *`` and ``from a.b import name`` (name not
            # a submodule) read a.b's own namespace: its __init__ when a.b is a package.
            if not imp.names or len(submodules) < len(imp.names):
                explicit.add(imp.name)
            edge = Edge(path, imp.line, imp.where)
            for target in explicit:
                parts = target.split(".")
                implied = {".".join(parts[:i]) for i in range(1, len(parts))}
                for parent in implied:
                    if parent in known and not (me == parent or me.startswith(f"{parent}.")):
                        graph[me][parent].append(edge)
                if target in known:
                    graph[me][target].append(edge)
    return {m: dict(edges) for m, edges in graph.items()}


def _components(graph: dict[str, dict[str, list[Edge]]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def _shortest_path(
    graph: dict[str, dict[str, list[Edge]]], start: str, goal: str, inside: set[str]
) -> list[str]:
    previous: dict[str, str] = {}
    queue, seen = [start], {start}
    for node in queue:
        if node == goal:
            break
        for nxt in sorted(graph[node]):
            if nxt in inside and nxt not in seen:
                seen.add(nxt)
                previous[nxt] = node
                queue.append(nxt)
    path = [goal]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]


def circles(graph: dict[str, dict[str, list[Edge]]]) -> list[str]:
    """One readable paragraph per circle (see the module docstring)."""
    found = []
    for component in _components(graph):
        inside = set(component)
        self_loop = len(component) == 1 and component[0] in graph[component[0]]
        if len(component) == 1 and not self_loop:
            continue
        cycles: dict[tuple[str, ...], list[str]] = {}
        for a in component:
            for b in sorted(graph[a]):
                if b not in inside:
                    continue
                cycle = [a, *_shortest_path(graph, b, a, inside)] if a != b else [a, a]
                key = tuple(cycle[:-1])
                rotation = min(key[i:] + key[:i] for i in range(len(key)))
                cycles.setdefault(rotation, cycle)
        lines = [f"circle among {len(component)} module(s): {', '.join(component)}"]
        for cycle in sorted(cycles.values(), key=lambda c: (len(c), c)):
            lines.append("  " + " -> ".join(cycle))
            for a, b in pairwise(cycle):
                edges = "; ".join(str(e) for e in graph[a][b])
                lines.append(f"      {a} -> {b}: {edges}")
        found.append("\n".join(lines))
    return found


# -- naming a repository kind -----------------------------------------------------------

# ``kind in RepositoryKind.values`` names no kind in particular.
_ENUM_API = frozenset({"choices", "values", "labels", "names"})
_COMPARING = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def _names_a_kind(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value in KINDS
    if isinstance(node, ast.Attribute) and node.attr not in _ENUM_API:
        enum = node.value
        return (isinstance(enum, ast.Name) and enum.id == KIND_ENUM) or (
            isinstance(enum, ast.Attribute) and enum.attr == KIND_ENUM
        )
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_kind(e) for e in node.elts)
    return False


def kind_comparisons(source: str) -> list[int]:
    """Lines where a repository kind is compared (see the module docstring)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                if isinstance(op, _COMPARING) and (_names_a_kind(left) or _names_a_kind(right)):
                    found.add(node.lineno)
        elif isinstance(node, ast.match_case):
            for pattern in ast.walk(node.pattern):
                if isinstance(pattern, ast.MatchValue) and _names_a_kind(pattern.value):
                    found.add(pattern.lineno)
    return sorted(found)


_TAG = re.compile(r"\{%\s*(.*?)\s*%\}")
# Django's smart_split: words, keeping quoted strings (and filters on them) whole.
_WORD = re.compile(
    r"""((?:[^\s'"]*(?:(?:"(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*')[^\s'"]*)+) | \S+)""",
    re.VERBOSE,
)
_LITERAL = re.compile(r"""^(["'])(.*?)\1(\|.*)?$""")


def _literal_kinds(word: str, *, containing: bool) -> bool:
    match = _LITERAL.match(word)
    if not match:
        return False
    value = match.group(2)
    if containing:  # the right side of ``in``: "zenodo datameta" holds two kinds
        return bool(KINDS & set(re.findall(r"\w+", value)))
    return value in KINDS


def template_kind_comparisons(text: str) -> list[int]:
    """Lines of ``{% if %}``/``{% elif %}`` tags comparing with a kind's name."""
    found = set()
    for number, line in enumerate(text.splitlines(), 1):
        for tag in _TAG.finditer(line):
            words = _WORD.findall(tag.group(1))
            if not words or words[0] not in ("if", "elif"):
                continue
            for i, word in enumerate(words[1:], 1):
                if word not in ("==", "!=", "in"):
                    continue
                left = words[i - 2] if word == "in" and words[i - 1] == "not" else words[i - 1]
                right = words[i + 1] if i + 1 < len(words) else ""
                if _literal_kinds(left, containing=False) or _literal_kinds(
                    right, containing=word == "in"
                ):
                    found.add(number)
    return sorted(found)
