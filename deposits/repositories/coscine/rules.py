"""Coscine's rules, checked before anything is sent (what ``CoscineConnector.validate``
returns).

The project and the resource (or the new resource's form, whose limits are those of
Coscine's ``ResourceForCreationDto``: name up to 200 characters, display name up to 25,
description up to 10000, a visibility, at least one discipline, a resource type), the
application profile, and every file's metadata: first Python's own checks (required,
counts, lengths, patterns, choices, value types), so each problem is said once at its
field, then pyshacl for what only the shapes know (ranges, vocabularies, fixed values).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from ..base import FileJob, FileState, Problem
from . import form as profile_form
from . import shacl
from .profiles import BROKEN, Field, ProfileError, ProfileForm, form_for

PROFILE_KEY = "profile:"
NAME_MAX = 200
DISPLAY_NAME_MAX = 25
DESCRIPTION_MAX = 10000
USAGE_RIGHTS_MAX = 200
INTEGER_RE = re.compile(r"^[+-]?\d+$")
DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def field_path(scope: str, key: str) -> str:
    """Where a problem with one field of the metadata form is shown."""
    return f"options.file_metadata.{scope}.{key}"


def _problem(path: str, message: str) -> Problem:
    return Problem(path, message, repository="coscine")


def check(
    metadata: dict[str, Any], options: dict[str, Any], files: list[FileJob], schema: dict[str, Any]
) -> list[Problem]:
    """Everything Coscine would refuse, each at the option or form field it concerns."""
    problems = _project(options) + _resource(options)
    form, profile, trouble = _profile(options, schema)
    if trouble or form is None or profile is None:
        return [*problems, *([trouble] if trouble else [])]
    live = [f for f in files if f.status != FileState.DELETE]
    names = [f.name for f in live] or ["*"]  # no file yet: check what every file gets
    seen: set[tuple[str, str]] = set()
    for name in names:
        for problem in file_problems(form, profile, metadata, options, name):
            if (problem.field, problem.message) not in seen:
                seen.add((problem.field, problem.message))
                problems.append(problem)
    return problems


# --------------------------------------------------------------------------- project, resource


def _project(options: dict[str, Any]) -> list[Problem]:
    project = options.get("project")
    if isinstance(project, dict) and project.get("id"):
        return []
    return [_problem("options.project", "Choose the Coscine project to store the files in.")]


def _resource(options: dict[str, Any]) -> list[Problem]:
    resource = options.get("resource")
    if isinstance(resource, dict) and resource.get("id"):
        return []
    new = options.get("new_resource")
    if isinstance(new, dict) and new:
        return new_resource_problems(new)
    return [
        _problem(
            "options.resource",
            "Choose a resource of the project, or describe a new one for the portal to create.",
        )
    ]


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int | float) else ""


def new_resource_problems(new: dict[str, Any]) -> list[Problem]:
    """The new resource's form against ``ResourceForCreationDto`` (A.2)."""
    out = _lengths(new)
    if not _text(new.get("visibility")):
        out.append(_problem("options.new_resource.visibility", "Choose who may see the resource."))
    disciplines = new.get("disciplines")
    if not isinstance(disciplines, list) or not [d for d in disciplines if _text(d)]:
        out.append(_problem("options.new_resource.disciplines", "Choose at least one discipline."))
    out += _resource_type(new) + _keywords(new.get("keywords")) + _quota(new.get("quota_gib"))
    return out


def _lengths(new: dict[str, Any]) -> list[Problem]:
    limits = (
        ("name", "Name", NAME_MAX, True),
        ("display_name", "Display name", DISPLAY_NAME_MAX, False),
        ("description", "Description", DESCRIPTION_MAX, True),
        ("usage_rights", "Usage rights", USAGE_RIGHTS_MAX, False),
    )
    out = []
    for key, label, limit, required in limits:
        text = _text(new.get(key))
        path = f"options.new_resource.{key}"
        if required and not text:
            out.append(_problem(path, f"{label}: Coscine requires one for a new resource."))
        elif len(text) > limit:
            out.append(_problem(path, f"{label}: at most {limit} characters ({len(text)} given)."))
    return out


def _resource_type(new: dict[str, Any]) -> list[Problem]:
    value = _text(new.get("resource_type"))
    path = "options.new_resource.resource_type"
    if not value:
        return [_problem(path, "Choose the kind of storage (resource type) for the resource.")]
    try:
        uuid.UUID(value)
    except ValueError:
        return [_problem(path, "This resource type is not one Coscine offers; choose it again.")]
    return []


def _keywords(keywords: Any) -> list[Problem]:
    path = "options.new_resource.keywords"
    if keywords in (None, ""):
        return []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        return [_problem(path, "Keywords: give them as a list of words or phrases.")]
    if any(not k.strip() for k in keywords):
        return [_problem(path, "Keywords: remove the empty keyword.")]
    return []


def _quota(quota: Any) -> list[Problem]:
    if quota in (None, ""):
        return []
    try:
        ok = int(str(quota)) >= 1
    except ValueError:
        ok = False
    if ok:
        return []
    return [
        _problem("options.new_resource.quota_gib", "Quota: give a whole number of GiB, 1 or more.")
    ]


# --------------------------------------------------------------------------- profile


def _profile(
    options: dict[str, Any], schema: dict[str, Any]
) -> tuple[ProfileForm | None, dict[str, Any] | None, Problem | None]:
    uri = _text(options.get("application_profile"))
    path = "options.application_profile"
    if not uri:
        return None, None, _problem(path, "Choose the application profile of the files' metadata.")
    lookups = (schema or {}).get("lookups") or {}
    profile = lookups.get(PROFILE_KEY + uri)
    if not isinstance(profile, dict) or not profile.get("turtle"):
        message = (
            f"The application profile {uri} is being fetched from Coscine; its form and "
            "checks appear in a moment."
        )
        return None, None, _problem(path, message)
    try:
        return form_for(profile), profile, None
    except ProfileError as exc:
        return None, None, _problem(path, str(exc))


# --------------------------------------------------------------------------- file metadata


def file_problems(
    form: ProfileForm,
    profile: dict[str, Any],
    metadata: dict[str, Any],
    options: dict[str, Any],
    name: str,
) -> list[Problem]:
    """One file's metadata: Python's checks, then SHACL's for the fields still clean."""
    values = profile_form.values_for(form, options, name, metadata)
    own = profile_form.scope_values(options, name) if name != "*" else {}
    issues = field_issues(form, values)
    flagged = {key for key, _ in issues}
    resource = (options.get("resource") or {}).get("id") or "new"
    subject = f"https://purl.org/coscine/resources/{resource}/{quote(name)}"
    turtle = profile_form.to_turtle(form, values, subject)
    issues += [(k, m) for k, m in shacl.validate(profile, turtle) if k not in flagged or not k]
    out = []
    for key, message in issues:
        scope = name if key in own else "*"
        if not key:
            where = "options.application_profile" if BROKEN in message else "options.file_metadata"
            out.append(_problem(where, message))
        elif scope == "*":
            out.append(_problem(field_path("*", key), message))
        else:
            out.append(_problem(field_path(scope, key), f"{name}: {message}"))
    return out


def field_issues(form: ProfileForm, values: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(key, message) for each field whose values break the profile's simple rules."""
    out: list[tuple[str, str]] = []
    for field in form.fields:
        given = values.get(field.key) or []
        count = _count_issue(field, given)
        if count:
            out.append((field.key, count))
        out += [(field.key, m) for m in (_value_issue(field, v) for v in given) if m]
    return out


def _count_issue(field: Field, given: list[str]) -> str:
    if len(given) < field.min_count:
        return shacl.too_few(field.label, field.min_count)
    if field.max_count is not None and len(given) > field.max_count:
        return shacl.too_many(field.label, field.max_count, len(given))
    return ""


def _value_issue(field: Field, value: str) -> str:
    if field.choices and value not in {v for v, _ in field.choices}:
        return shacl.not_a_choice(field, field.label, value)
    if not _has_type(field, value):
        return shacl.wrong_type(field, field.label, value)
    if field.is_iri:
        return ""
    if field.min_length is not None and len(value) < field.min_length:
        return shacl.too_short(field.label, field.min_length, value)
    if field.max_length is not None and len(value) > field.max_length:
        return shacl.too_long(field.label, field.max_length, value)
    if field.pattern and not _matches(field.pattern, value):
        return shacl.no_match(field, field.label, value, field.pattern)
    return ""


def _matches(pattern: str, value: str) -> bool:
    """sh:pattern is a regex search (XPath flavour); one Python cannot read is left to
    pyshacl."""
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True


def _has_type(field: Field, value: str) -> bool:
    kind = field.kind
    checks = {
        "integer": lambda v: bool(INTEGER_RE.match(v)),
        "decimal": lambda v: bool(DECIMAL_RE.match(v)) or v in {"INF", "-INF", "NaN"},
        "boolean": lambda v: v in {"true", "false", "1", "0"},
        "date": _is_date,
        "datetime": _is_datetime,
        "uri": lambda v: bool(profile_form.IRI_RE.match(v)),
    }
    check_value = checks.get(kind)
    return check_value(value) if check_value else True


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    if "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
