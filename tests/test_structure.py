"""The structure DESIGN.md promises ("Which way the imports go"), checked on the source:
``sandbox/`` and ``deposits/`` never import each other; there is no import circle, not
even one hidden by a deferred import; only a repository's package names its kind.

The rules (what counts as an import, which module it points at, what a circle is, what
naming a kind means) are written at the top of ``tests/structure.py``, with the checkers.
Each checker is also run on small in-memory sources, one it must flag and one it must
not, so a checker broken into finding nothing fails here too.

Scope: every ``.py`` file under ``deposits/``, ``portal/`` and ``sandbox/`` but
migrations; templates under ``templates/`` and any ``deposits/**/templates/``. ``tests/``
and ``bench/`` are not scanned.
"""

from __future__ import annotations

from pathlib import Path

from tests.structure import (
    circles,
    crossings,
    import_graph,
    kind_comparisons,
    read_tree,
    template_kind_comparisons,
)

ROOT = Path(__file__).resolve().parent.parent
TOPS = ("deposits", "portal", "sandbox")
# A repository's package may name its own kind; so may the shared modules beside them.
KIND_HOME = "deposits/repositories/"
NEVER_IMPORT = (("sandbox", "deposits"), ("deposits", "sandbox"))


def _templates() -> list[Path]:
    found = set((ROOT / "templates").rglob("*.html"))
    for folder in (ROOT / "deposits").rglob("templates"):
        found |= set(folder.rglob("*.html"))
    return sorted(found)


def test_sandbox_and_deposits_never_import_each_other() -> None:
    found = crossings(read_tree(ROOT, TOPS), NEVER_IMPORT)
    assert not found, "sandbox/ and deposits/ import each other:\n" + "\n".join(found)


def test_there_is_no_import_circle() -> None:
    found = circles(import_graph(read_tree(ROOT, TOPS)))
    assert not found, f"{len(found)} import circle(s):\n" + "\n".join(found)


def test_only_a_repositorys_package_names_its_kind() -> None:
    found = [
        f"{path}:{line}"
        for path, source in sorted(read_tree(ROOT, TOPS).items())
        if not path.startswith(KIND_HOME)
        for line in kind_comparisons(source)
    ]
    for template in _templates():
        path = template.relative_to(ROOT).as_posix()
        if not path.startswith(KIND_HOME):
            found += [f"{path}:{n}" for n in template_kind_comparisons(template.read_text())]
    assert not found, "a repository kind is compared outside its package:\n" + "\n".join(found)


# -- the checkers themselves ------------------------------------------------------------


def test_the_crossing_checker_finds_every_form_of_import() -> None:
    tree = {
        "sandbox/__init__.py": "",
        "sandbox/a.py": "import deposits.models\n",
        "sandbox/b.py": "from deposits import models\n",
        "sandbox/c.py": "def f():\n    from deposits.repositories import registry\n",
        "sandbox/d.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from deposits.models import Target\n"
        ),
        "sandbox/e.py": "import importlib\nm = importlib.import_module('deposits.urls')\n",
        "deposits/__init__.py": "",
        "deposits/x/__init__.py": "",
        "deposits/x/y.py": "class C:\n    def m(self):\n        import sandbox.zenodo as z\n",
    }
    found = crossings(tree, NEVER_IMPORT)
    assert [f.split(" ")[0] for f in found] == [
        "deposits/x/y.py:3",
        "sandbox/a.py:1",
        "sandbox/b.py:1",
        "sandbox/c.py:2",
        "sandbox/d.py:3",
        "sandbox/e.py:2",
    ]
    assert "(in f())" in found[3]
    assert "TYPE_CHECKING" in found[4]


def test_the_crossing_checker_lets_each_side_import_itself() -> None:
    tree = {
        "sandbox/__init__.py": "",
        "sandbox/zenodo/__init__.py": "",
        "sandbox/zenodo/views.py": "from . import tokens\nfrom ..urls import x\nimport depositsx\n",
        "deposits/__init__.py": "",
        "deposits/views.py": "from .models import Target\nfrom deposits import sandboxes\n",
    }
    assert crossings(tree, NEVER_IMPORT) == []


def test_the_circle_checker_finds_a_circle_a_deferred_import_hides() -> None:
    tree = {
        "app/__init__.py": "",
        "app/base.py": "def f():\n    from app.http import Client\n",
        "app/http.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .base import Connector\n"
        ),
        "app/views.py": "from app.base import f\n",
    }
    found = circles(import_graph(tree))
    assert len(found) == 1
    assert "app.base -> app.http -> app.base" in found[0]
    assert "app/base.py:2 (in f())" in found[0]
    assert "app/http.py:3 (if TYPE_CHECKING)" in found[0]
    assert "app.views" not in found[0]


def test_the_circle_checker_finds_a_submodule_reading_its_package() -> None:
    tree = {
        "app/__init__.py": "",
        "app/flow/__init__.py": "from .drafts import add\nfrom .states import transition\n",
        "app/flow/states.py": "def transition(): ...\n",
        "app/flow/drafts.py": "from app.flow import transition\n",
    }
    found = circles(import_graph(tree))
    assert len(found) == 1
    assert "app.flow -> app.flow.drafts -> app.flow" in found[0]


def test_the_circle_checker_finds_a_circle_through_a_parent_package() -> None:
    # b imports a.sub, which runs a/__init__.py first, which imports b.
    tree = {
        "a/__init__.py": "from b import thing\n",
        "a/sub.py": "",
        "b.py": "import a.sub\n",
    }
    found = circles(import_graph(tree))
    assert len(found) == 1
    assert "a -> b -> a" in found[0]


def test_the_circle_checker_finds_a_self_import() -> None:
    found = circles(import_graph({"app/__init__.py": "", "app/x.py": "from app.x import y\n"}))
    assert len(found) == 1
    assert "app.x -> app.x" in found[0]


def test_the_circle_checker_lets_a_package_re_export_its_submodules() -> None:
    tree = {
        "app/__init__.py": "",
        "app/flow/__init__.py": "from .drafts import add\nfrom . import states\n",
        "app/flow/states.py": "from app.models import Target\n",
        # Submodules of its own package, in each form, never its __init__'s names.
        "app/flow/drafts.py": (
            "from . import states\nfrom .states import x\nfrom app.flow import states as s\n"
            "def f():\n    from app.flow.states import y\n"
        ),
        "app/models.py": "",
        "app/repositories/__init__.py": "",
        "app/repositories/registry.py": "def get(): ...\n",
        "app/views.py": "from app.flow import drafts\nfrom app.repositories import registry\n",
    }
    graph = import_graph(tree)
    assert circles(graph) == []
    assert set(graph["app.views"]) == {
        "app.flow",
        "app.flow.drafts",
        "app.repositories.registry",
        "app.repositories",
    }
    assert set(graph["app.flow.drafts"]) == {"app.flow.states"}


def test_the_kind_checker_finds_comparisons_with_a_kind() -> None:
    source = "\n".join(
        [
            'if account.kind == "datameta": pass',
            'if kind in ("zenodo", "x"): pass',
            'if "coscine" != kind: pass',
            "if target.account.kind is RepositoryKind.ZENODO: pass",
            "if kind not in {models.RepositoryKind.CRISTIN}: pass",
            "match kind:",
            '    case "other" | "zenodo":',
            "        pass",
            "y = [t for t in targets if t.kind == 'datameta']",
        ]
    )
    assert kind_comparisons(source) == [1, 2, 3, 4, 5, 7, 9]


def test_the_kind_checker_lets_other_comparisons_be() -> None:
    source = "\n".join(
        [
            'if event.kind == "metadata_edited": pass',
            "if kind in RepositoryKind.values: pass",
            'x = {"zenodo": 1}[kind]',
            '"""Compare with "zenodo" nowhere."""',
            'match kind:\n    case "draft":\n        pass',
            "if connector.can_edit: pass",
        ]
    )
    assert kind_comparisons(source) == []


def test_the_template_kind_checker_finds_comparisons_with_a_kind() -> None:
    text = "\n".join(
        [
            '{% if card.target.account.kind == "datameta" %}x{% endif %}',
            "<p>{% elif 'zenodo' != kind %}</p>",
            '{% if kind not in "zenodo cristin" %}',
            '{% if a %}{% endif %}{% if x.kind|default:"" == "coscine" and y %}',
        ]
    )
    assert template_kind_comparisons(text) == [1, 2, 3, 4]


def test_the_template_kind_checker_lets_other_tags_be() -> None:
    text = "\n".join(
        [
            '{{ account.kind|default:"zenodo" }}',
            '{% if x.label|default:"zenodo" == y %}{% endif %}',
            '{% for kind in "zenodo datameta" %}{% endfor %}',
            '{% if event.kind == "metadata_edited" %}',
            '{% include "repositories/zenodo/panel.html" %}',
            '<div data-kind="zenodo">{{ target.account.get_kind_display }}</div>',
        ]
    )
    assert template_kind_comparisons(text) == []
