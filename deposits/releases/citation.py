"""The metadata a release archive carries: ``.zenodo.json`` (which wins) or ``CITATION.cff``,
read into the portal's neutral metadata (``deposits/metadata``), every problem with its
place in the file.

- ``.zenodo.json`` is a deposit's ``metadata`` object as the Zenodo REST API document
  describes it ("Deposit metadata": title, upload_type, creators with name, affiliation,
  orcid and gnd, description, license, keywords, related_identifiers, version, ...). Its
  keys are, nearly one for one, the editor's fields (``deposits/metadata/editing.py``), so
  it is read into the editor's view and from there into a record.
- ``CITATION.cff`` is YAML (read with ``yaml.safe_load``'s loader, dates kept as text, as
  the schema asks) checked against the Citation File Format 1.2.0 JSON schema vendored
  next to this module (``cff-schema-1.2.0.json``, from
  github.com/citation-file-format/citation-file-format, tag 1.2.0), then mapped.

A file with problems is not applied: the release fails with the problems listed, so a
broken file never publishes a version described by stale metadata.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

from deposits.metadata import (
    ACCESS_RIGHTS,
    RELATION_CHOICES,
    TYPE_BY_ID,
    Record,
    normalize_orcid,
    to_record,
)
from deposits.metadata.editing import relation_type

ZENODO_JSON = ".zenodo.json"
CFF = "CITATION.cff"
CITATION_FILES = (ZENODO_JSON, CFF)  # in order of precedence
SCHEMA_PATH = Path(__file__).with_name("cff-schema-1.2.0.json")

Problems = list[dict[str, str]]


@dataclass
class Citation:
    """What a release's citation file says, as neutral metadata (a partial record)."""

    metadata_from: str = ""  # ".zenodo.json", "CITATION.cff" or "" (none found)
    metadata: Record = field(default_factory=dict)
    problems: Problems = field(default_factory=list)  # [{"field", "message"}]
    notes: list[str] = field(default_factory=list)  # what was left out, readable

    @property
    def version(self) -> str:
        return str(self.metadata.get("version") or "")


def read_metadata(files: Mapping[str, bytes]) -> Citation:
    """The citation file among ``files`` (name -> bytes) that wins, read and checked."""
    if ZENODO_JSON in files:
        citation = read_zenodo_json(files[ZENODO_JSON])
        if CFF in files:
            citation.notes.append(f"{CFF} was not read: {ZENODO_JSON} takes precedence.")
        return citation
    if CFF in files:
        return read_cff(files[CFF])
    return Citation(
        notes=[
            f"The archive has no {ZENODO_JSON} or {CFF}: the deposit's metadata is kept, "
            "only the version changes."
        ]
    )


# --------------------------------------------------------------------------- shared checks


@cache
def cff_schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@cache
def _licenses() -> dict[str, str]:
    """SPDX ids (the schema's list) by their lower-case spelling."""
    return {str(i).lower(): str(i) for i in cff_schema()["definitions"]["license-enum"]["enum"]}


def spdx_license(value: str) -> str | None:
    """The SPDX spelling of a license id (any case: Zenodo writes "cc-by-4.0"), or None."""
    return _licenses().get(value.strip().lower())


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) else ""


def _paragraphs(text: str) -> str:
    """Plain text as the HTML the description holds (escaped, a paragraph per block)."""
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{html.escape(' '.join(b.split()))}</p>" for b in blocks)


# --------------------------------------------------------------------------- .zenodo.json

_ZENODO_TEXT = (
    "title", "publication_date", "description", "access_right", "access_conditions",
    "embargo_date", "version", "language", "notes", "method",
)  # fmt: skip
_ZENODO_PREFIXED = {"journal_": "journal", "conference_": "conference", "imprint_": "imprint",
                    "partof_": "part_of", "thesis_": "thesis"}  # fmt: skip
_ZENODO_IGNORED = {"communities", "prereserve_doi", "doi", "grants", "locations", "dates",
                   "subjects", "contributors", "thesis_supervisors"}  # fmt: skip


def read_zenodo_json(raw: bytes) -> Citation:
    citation = Citation(metadata_from=ZENODO_JSON)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _failed(citation, "", f"the {ZENODO_JSON} is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return _failed(
            citation,
            "",
            f"the {ZENODO_JSON} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            f"{exc.msg}",
        )
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict):
        data = data["metadata"]  # a whole deposition, as the API returns it
    if not isinstance(data, dict):
        return _failed(citation, "", f"the {ZENODO_JSON} must hold one JSON object")
    reader = _ZenodoReader(citation)
    view = reader.view(data)
    if not citation.problems:
        citation.metadata = to_record(view)
    return citation


def _failed(citation: Citation, path: str, message: str) -> Citation:
    citation.problems.append({"field": path, "message": message})
    return citation


class _ZenodoReader:
    """One .zenodo.json object into the editor's view, noting each problem by its key."""

    def __init__(self, citation: Citation) -> None:
        self.citation = citation

    def problem(self, path: str, message: str) -> None:
        self.citation.problems.append(
            {"field": path, "message": f"{ZENODO_JSON} {path}: {message}"}
        )

    def view(self, data: dict[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {}
        for key in _ZENODO_TEXT:
            if key in data:
                if not isinstance(data[key], str | int | float):
                    self.problem(key, "must be text")
                elif key == "description":
                    view[key] = str(data[key])
                else:
                    view[key] = _text(data[key])
        self._choices(data, view)
        view["creators"] = self._people(data.get("creators"), "creators")
        view["keywords"] = self._keywords(data.get("keywords"))
        view["related_identifiers"] = self._related(data.get("related_identifiers"))
        if "references" in data:
            refs = data["references"]
            if isinstance(refs, list) and all(isinstance(r, str) for r in refs):
                view["references"] = refs
            else:
                self.problem("references", "must be a list of citation texts")
        for prefix, group in _ZENODO_PREFIXED.items():
            block = {k[len(prefix) :]: _text(v) for k, v in data.items() if k.startswith(prefix)}
            block.pop("supervisors", None)
            if any(block.values()):
                view[group] = block
        self._leftovers(data)
        return {k: v for k, v in view.items() if v not in (None, "", [], {})}

    def _choices(self, data: dict[str, Any], view: dict[str, Any]) -> None:
        kind = _text(data.get("upload_type"))
        if kind:
            sub = _text(data.get(f"{kind}_type"))
            type_id = f"{kind}-{sub}" if sub else kind
            if type_id not in TYPE_BY_ID:
                self.problem("upload_type", f"“{type_id}” is not one of Zenodo's upload types")
            else:
                view["resource_type"] = kind
                if sub:
                    view[f"{kind}_type"] = sub
        if "access_right" in view and view["access_right"] not in dict(ACCESS_RIGHTS):
            choices = ", ".join(dict(ACCESS_RIGHTS))
            self.problem("access_right", f"“{view['access_right']}” is not one of {choices}")
        license_value = data.get("license")
        if isinstance(license_value, dict):  # {"id": "cc-by-4.0"}, as the API returns it
            license_value = license_value.get("id")
        if license_value not in (None, ""):
            spdx = spdx_license(_text(license_value))
            if spdx is None:
                self.problem(
                    "license",
                    f"“{license_value}” is not a license id the portal knows (an SPDX id "
                    "such as cc-by-4.0 or MIT, https://spdx.org/licenses/)",
                )
            else:
                view["license"] = spdx

    def _people(self, value: Any, path: str) -> list[dict[str, str]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list of people")
            return []
        people = []
        for index, person in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(person, dict) or not _text(person.get("name")):
                self.problem(where, "needs a name (“Family, Given”)")
                continue
            row = {k: _text(person.get(k)) for k in ("name", "affiliation", "orcid", "gnd")}
            if row["orcid"] and normalize_orcid(row["orcid"]) is None:
                self.problem(f"{where}.orcid", f"“{row['orcid']}” is not a valid ORCID iD")
            people.append({k: v for k, v in row.items() if v})
        return people

    def _keywords(self, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            self.problem("keywords", "must be a list of words")
            return []
        return [k.strip() for k in value if k.strip()]

    def _related(self, value: Any) -> list[dict[str, str]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem("related_identifiers", "must be a list")
            return []
        rows = []
        for index, item in enumerate(value):
            where = f"related_identifiers[{index}]"
            if not isinstance(item, dict) or not _text(item.get("identifier")):
                self.problem(where, "needs an identifier")
                continue
            relation = relation_type(item.get("relation"))
            if relation not in RELATION_CHOICES:
                self.problem(f"{where}.relation", f"“{item.get('relation')}” is not a relation")
                continue
            row = {
                "identifier": _text(item["identifier"]),
                "relation": relation,
                "resource_type": _text(item.get("resource_type")),
                "scheme": _text(item.get("scheme")),
            }
            rows.append({k: v for k, v in row.items() if v})
        return rows

    def _leftovers(self, data: dict[str, Any]) -> None:
        known = {*_ZENODO_TEXT, "upload_type", "publication_type", "image_type", "license",
                 "creators", "keywords", "related_identifiers", "references"}  # fmt: skip
        skipped = sorted(
            k
            for k in data
            if k in _ZENODO_IGNORED
            or (k not in known and not any(k.startswith(p) for p in _ZENODO_PREFIXED))
        )
        if skipped:
            self.citation.notes.append(
                f"Not taken from {ZENODO_JSON}: {', '.join(skipped)} (set them on the deposit "
                "or its repository options)."
            )


# --------------------------------------------------------------------------- CITATION.cff


class _CffLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, but dates stay text: the CFF schema checks strings."""


_CffLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_cff(raw: bytes) -> Citation:
    citation = Citation(metadata_from=CFF)
    try:
        text = raw.decode("utf-8-sig")
        node = yaml.compose(text, Loader=_CffLoader)
        data = yaml.load(text, Loader=_CffLoader)  # noqa: S506
    except UnicodeDecodeError:
        return _failed(citation, "", f"the {CFF} is not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return _failed(citation, "", f"the {CFF} is not valid YAML{where}: {reason}")
    if not isinstance(data, dict):
        return _failed(citation, "", f"the {CFF} must hold a YAML mapping (key: value lines)")
    lines = _lines(node)
    for path, message in _cff_problems(data):
        line = _line_of(lines, path)
        shown = _shown(path)
        citation.problems.append(
            {
                "field": shown,
                "message": f"{CFF}{f' line {line}' if line else ''}: "
                + (f"{shown} {message}" if shown else message),
            }
        )
    if not citation.problems:
        citation.metadata = to_record(_cff_view(data, citation))
    return citation


Path_ = tuple[str | int, ...]


def _lines(node: yaml.Node | None, path: Path_ = ()) -> dict[Path_, int]:
    """Each path of the document and the line it starts on (1-based)."""
    if node is None:
        return {}
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, str(key.value))] = key.start_mark.line + 1
            out.update({p: n for p, n in _lines(value, (*path, str(key.value))).items() if p})
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out.update(_lines(item, (*path, index)))
    return out


def _line_of(lines: dict[Path_, int], path: Path_) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 0) if path else 0


def _shown(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _cff_problems(data: dict[str, Any]) -> list[tuple[Path_, str]]:
    found: list[tuple[Path_, str]] = []
    authors = data.get("authors")
    for index, author in enumerate(authors if isinstance(authors, list) else []):
        if isinstance(author, dict) and not (author.get("family-names") or author.get("name")):
            found.append((("authors", index), "needs family-names or name"))
    validator = jsonschema.Draft7Validator(cff_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path, message = _explain(error)
        if path[:1] == ("authors",) and (path[:2], "needs family-names or name") in found:
            continue
        found.append((path, message))
    return found


def _branch(error: ValidationError) -> list[ValidationError]:
    """Of an anyOf/oneOf's alternatives, the errors of the one the value was meant as:
    the first whose shape fits (its errors lie deeper), else the one with fewest errors."""
    branches: dict[Any, list[ValidationError]] = {}
    for inner in error.context or []:
        branches.setdefault(inner.relative_schema_path[0], []).append(inner)
    ranked = sorted(
        branches.values(),
        key=lambda errs: (any(not e.relative_path for e in errs), len(errs)),
    )
    return ranked[0] if ranked else []


def _explain(error: ValidationError) -> tuple[Path_, str]:
    """Where in the file the error is, and what is wrong there, in words."""
    path: Path_ = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _explain(best_match(_branch(error)))
    value, allowed = error.instance, error.validator_value
    if error.validator == "additionalProperties" and isinstance(value, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        extra = sorted(k for k in value if k not in (schema.get("properties") or {}))
        others = f" (nor is {', '.join(extra[1:])})" if extra[1:] else ""
        return (*path, *extra[:1]), f"is not a key of the Citation File Format 1.2.0{others}"
    if error.validator == "enum" and isinstance(allowed, list):
        if "MIT" in allowed:
            return path, f"“{value}” is not an SPDX license id (https://spdx.org/licenses/)"
        return path, f"“{value}” is not one of {', '.join(map(str, allowed))}"
    messages = {
        "required": lambda: f"needs {str(error.message).split(chr(39))[1]}",
        "pattern": lambda: f"“{value}” does not have the expected form ({allowed})",
        "type": lambda: f"must be {allowed}, not “{value}”",
        "minItems": lambda: "must not be empty",
        "minLength": lambda: "must not be empty",
        "uniqueItems": lambda: "lists the same entry twice",
    }
    make = messages.get(str(error.validator))
    return path, make() if make else str(error.message)


def _cff_person(author: dict[str, Any]) -> dict[str, str]:
    family = " ".join(
        _text(author.get(k)) for k in ("name-particle", "family-names") if _text(author.get(k))
    )
    given = _text(author.get("given-names"))
    suffix = _text(author.get("name-suffix"))
    name = f"{family}, {given}" if family and given else family or given or _text(author["name"])
    row = {
        "name": f"{name}, {suffix}" if suffix and family else name,
        "affiliation": _text(author.get("affiliation")),
        "orcid": normalize_orcid(_text(author.get("orcid"))) or "",
    }
    return {k: v for k, v in row.items() if v}


def _cff_view(data: dict[str, Any], citation: Citation) -> dict[str, Any]:
    licenses = data.get("license")
    first = licenses[0] if isinstance(licenses, list) else licenses
    view: dict[str, Any] = {
        "title": _text(data.get("title")),
        "creators": [_cff_person(a) for a in data.get("authors") or []],
        "description": _paragraphs(_text(data.get("abstract"))),
        "version": _text(data.get("version")),
        "publication_date": _text(data.get("date-released")),
        "keywords": [k.strip() for k in data.get("keywords") or [] if k.strip()],
        "license": spdx_license(str(first)) if first else "",
        "resource_type": _text(data.get("type")) or "software",
    }
    if _text(data.get("repository-code")):
        view["related_identifiers"] = [
            {"identifier": data["repository-code"], "relation": "IsSupplementTo", "scheme": "url"}
        ]
    if isinstance(licenses, list) and len(licenses) > 1:
        citation.notes.append(f"{CFF} names several licenses: the first, {first}, is used.")
    skipped = sorted(
        k for k in ("doi", "identifiers", "references", "preferred-citation") if k in data
    )
    if skipped:
        citation.notes.append(f"Not taken from {CFF}: {', '.join(skipped)}.")
    return {k: v for k, v in view.items() if v not in (None, "", [], {})}
