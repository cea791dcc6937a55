"""A Coscine target's panel: the project and resource (or the resource to create), the
application profile's metadata form for all files and per file, and after publishing the
Handle and the publication requests.

Pages never call Coscine: every list comes from the lookups cache
(``lifecycle.cached``); one not there yet shows "Loading from Coscine…" and the panel
polls until a worker has fetched it. Options change only through
``lifecycle.set_target_options`` (which validates the deposit again), so each problem
shown next to a field is exactly what publishing would refuse. Every target is looked up
through ``access`` (another team's target answers 404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from deposits import lifecycle
from deposits.lifecycle import Cached
from deposits.models import FileStatus, State, Target
from deposits.repositories.base import Problem

from .connector import PROFILE_KEY
from .rules import field_path

PANEL = "repositories/coscine/panel.html"
ALL_FILES = "*"
WHAT = "Coscine options"
# lookups a person may ask to fetch again (the Retry button); others are refused
FIXED_KEYS = frozenset(
    {"projects", "visibilities", "disciplines", "licenses", "profiles", "publication_services"}
)
KEY_PREFIXES = ("resources:", "resource_types:", PROFILE_KEY)
NEW_RESOURCE_FIELDS = (
    "name",
    "display_name",
    "description",
    "visibility",
    "disciplines",
    "license",
    "keywords",
    "resource_type",
    "quota_gib",
)


# --------------------------------------------------------------------------- what is shown


@dataclass
class Choice:
    value: str
    label: str
    selected: bool = False
    note: str = ""


@dataclass
class Source:
    """One lookup as the panel shows it: its choices, or why they are not there."""

    key: str
    cached: Cached
    choices: list[Choice] = field(default_factory=list)

    @property
    def loading(self) -> bool:
        return not self.cached.ready and not self.cached.error

    @property
    def error(self) -> str:
        return self.cached.error


@dataclass
class FieldView:
    """One field of the application profile's form, with what it shows and its problems."""

    index: int
    id: str  # of its input in the page
    key: str
    label: str
    description: str
    kind: str
    required: bool
    fixed: list[str]
    values: list[str]
    source: str  # "", "prefilled", "default", "inherited"
    choices: list[Choice]
    repeatable: bool
    max_length: int | None
    pattern: str
    path: str
    problems: list[Problem]
    inputs: list[str]  # one input each: the values, and an empty one to add another
    input_type: str = "text"


@dataclass
class MetadataForm:
    scope: str
    slug: str  # "all", or "file" (one file's form is open at a time)
    title: str
    fields: list[FieldView]
    problems: list[Problem]  # about the scope as a whole
    overridden: bool = False  # a file with values of its own


def _problems(target: Target) -> dict[str, list[Problem]]:
    placed: dict[str, list[Problem]] = {}
    for data in target.problems:
        problem = Problem.from_dict(data)
        bucket = placed.setdefault(problem.field, [])
        if problem not in bucket:
            bucket.append(problem)
    return placed


def _source(target: Target, key: str) -> Source:
    return Source(key, lifecycle.cached(target.account, key))


def _items(source: Source) -> list[dict[str, Any]]:
    data = source.cached.data
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _projects(target: Target) -> Source:
    source = _source(target, "projects")
    chosen = str((target.options.get("project") or {}).get("id") or "")
    for item in _items(source):
        depth = int(item.get("depth") or 0)
        indent = "\u2003" * depth + ("↳ " if depth else "")
        name = str(item.get("display_name") or item.get("name") or item.get("id"))
        value = str(item.get("id") or "")
        source.choices.append(Choice(value, indent + name, value == chosen))
    return source


def _resources(target: Target, project_id: str) -> Source:
    source = _source(target, f"resources:{project_id}")
    chosen = str((target.options.get("resource") or {}).get("id") or "")
    for item in _items(source):
        if item.get("archived"):
            continue
        value = str(item.get("id") or "")
        name = str(item.get("display_name") or item.get("name") or value)
        source.choices.append(Choice(value, name, value == chosen, str(item.get("general_type"))))
    return source


def _gib(value: Any) -> str:
    return f"{float(value):g} GiB"


def quota_note(quota: dict[str, Any] | None) -> str:
    """What is left of the project's quota for a resource type, as Coscine reports it."""
    if not quota or quota.get("maximum_gib") is None:
        return ""
    maximum = float(quota["maximum_gib"])
    allocated = float(quota.get("allocated_gib") or 0)
    return f"{_gib(max(maximum - allocated, 0))} of {_gib(maximum)} left"


def _resource_types(target: Target, project_id: str, chosen: str) -> Source:
    """Only the types the project may create now (never a list of our own)."""
    source = _source(target, f"resource_types:{project_id}")
    for item in _items(source):
        usable = item.get("can_create") and item.get("is_enabled")
        if not usable or item.get("status") != "active":
            continue
        value = str(item.get("id") or "")
        label = str(item.get("specific_type") or item.get("general_type") or value)
        note = quota_note(item.get("quota"))
        shown = f"{label} ({note})" if note else label
        source.choices.append(Choice(value, shown, value == chosen, note))
    return source


def _named(target: Target, key: str, chosen: list[str], label: str = "name") -> Source:
    """A plain list lookup (visibilities, disciplines, licenses) as choices."""
    source = _source(target, key)
    for item in _items(source):
        value = str(item.get("id") or item.get("uri") or "")
        source.choices.append(Choice(value, str(item.get(label) or value), value in chosen))
    return source


def _profiles(target: Target, chosen: str) -> Source:
    source = _source(target, "profiles")
    for item in _items(source):
        value = str(item.get("uri") or "")
        name = str(item.get("name") or value)
        source.choices.append(Choice(value, name, value == chosen, str(item.get("description"))))
    return source


@dataclass
class ResourceField:
    """One input of the new resource's form."""

    name: str
    label: str
    kind: str  # "text" "textarea" "number" "select" "multiple"
    help: str
    required: bool = False
    maxlength: int | None = None
    value: Any = ""
    source: Source | None = None
    empty: str = ""  # the label of a select's empty choice
    problems: list[Problem] = field(default_factory=list)
    id: str = ""


def _resource_fields(target: Target, project_id: str) -> list[ResourceField]:
    """The inputs of a new resource (lengths as ResourceForCreationDto allows them)."""
    new = dict(target.options.get("new_resource") or {})
    disciplines = [str(d) for d in new.get("disciplines") or []]
    return [
        ResourceField("name", "Name", "text", "Up to 200 characters.", True, 200),
        ResourceField(
            "display_name",
            "Display name",
            "text",
            "Shown in Coscine's lists; up to 25 characters.",
            True,
            25,
        ),
        ResourceField(
            "description",
            "Description",
            "textarea",
            "What the resource holds; up to 10,000 characters.",
            True,
            10000,
        ),
        ResourceField(
            "visibility",
            "Visibility",
            "select",
            "Who in Coscine may see the resource's metadata.",
            True,
            source=_named(target, "visibilities", [str(new.get("visibility", ""))]),
            empty="— Choose —",
        ),
        ResourceField(
            "disciplines",
            "Disciplines",
            "multiple",
            "At least one; hold Ctrl (⌘ on a Mac) to choose several.",
            True,
            source=_named(target, "disciplines", disciplines, "label"),
        ),
        ResourceField(
            "license",
            "License",
            "select",
            "Optional.",
            source=_named(target, "licenses", [str(new.get("license", ""))]),
            empty="— No license —",
        ),
        ResourceField(
            "keywords",
            "Keywords",
            "text",
            "Separated by commas.",
            value=", ".join(str(k) for k in new.get("keywords") or []),
        ),
        ResourceField(
            "resource_type",
            "Resource type",
            "select",
            "The storage types this project may create now, with the quota it has left.",
            True,
            source=_resource_types(target, project_id, str(new.get("resource_type", ""))),
            empty="— Choose —",
        ),
        ResourceField(
            "quota_gib",
            "Quota (GiB)",
            "number",
            "How much of the project's quota for this type the resource reserves.",
            True,
        ),
    ]


def _new_resource(target: Target, project_id: str, problems: dict[str, list[Problem]]) -> dict:
    """The form of the resource to create: its values, choices and problems."""
    new = dict(target.options.get("new_resource") or {})
    fields = _resource_fields(target, project_id)
    for spec in fields:
        spec.id = f"coscine-nr-{target.pk}-{spec.name}"
        if spec.name != "keywords":
            spec.value = new.get(spec.name, "")
        spec.problems = problems.get(f"options.new_resource.{spec.name}", [])
        if spec.name == "quota_gib":
            spec.problems = spec.problems + problems.get("options.new_resource.quota", [])
    profile = str(target.options.get("application_profile") or "")
    return {
        "fields": fields,
        "profiles": _profiles(target, profile),
        "profile_problems": problems.get("options.application_profile", []),
    }


def _sources_of_new(new: dict[str, Any] | None) -> list[Source]:
    if not new:
        return []
    return [f.source for f in new["fields"] if f.source is not None] + [new["profiles"]]


# --------------------------------------------------------------------------- the profile form


def live_files(target: Target) -> list[str]:
    return list(
        target.deposit.files.filter(status=FileStatus.READY)
        .order_by("name")
        .values_list("name", flat=True)
    )


def fallback_values(form: Any, options: dict[str, Any], scope: str, metadata: dict) -> dict:
    """What a scope's fields hold when it gives no value of its own: for all files the
    prefilled or default values, for one file what all files have."""
    from . import form as profile_form

    shared = (options.get("file_metadata") or {}).get(ALL_FILES) or {}
    others = {} if scope == ALL_FILES else {ALL_FILES: shared}
    return profile_form.values_for(form, {**options, "file_metadata": others}, scope, metadata)


def _origin(key: str, own: dict, prefilled: dict, field_default: list[str], scope: str) -> str:
    if key in own:
        return ""
    if scope != ALL_FILES:
        return "inherited"
    if prefilled.get(key):
        return "prefilled"
    return "default" if field_default else ""


def _choices(spec: Any, values: list[str]) -> list[Choice]:
    """The field's choices; a value that is not among them (prefilled, or dropped from the
    vocabulary since) stays visible, so saving does not lose it silently."""
    known = {str(v) for v, _ in spec.choices}
    extra = [Choice(v, v, True) for v in values if v not in known]
    return [Choice(str(v), str(label), str(v) in values) for v, label in spec.choices] + extra


INPUT_TYPES = {"integer": "number", "decimal": "number", "date": "date", "uri": "url"}
LOCAL_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")


def _input_type(kind: str, values: list[str]) -> str:
    """The browser's own input for the kind; a date-time with a time zone stays text (the
    browser's date-time input cannot show one)."""
    if kind == "datetime":
        return "datetime-local" if all(LOCAL_DATETIME.match(v) for v in values) else "text"
    return INPUT_TYPES.get(kind, "text")


def _inputs(spec: Any, values: list[str]) -> list[str]:
    room = spec.max_count is None or len(values) < spec.max_count
    return [*values, ""] if room or not values else values


def _field_view(
    index: int, spec: Any, scope: str, shown: dict, *, origin: str, placed: dict, prefix: str
) -> FieldView:
    path = field_path(scope, spec.key)
    values = list(spec.fixed) if spec.fixed else [str(v) for v in shown.get(spec.key) or []]
    return FieldView(
        index=index,
        id=f"{prefix}-{index}",
        key=spec.key,
        label=spec.label,
        description=spec.description,
        kind=spec.kind,
        required=spec.min_count > 0,
        fixed=list(spec.fixed),
        values=values,
        source="" if spec.fixed else origin,
        choices=_choices(spec, values) if spec.kind == "choice" else [],
        repeatable=spec.max_count is None or spec.max_count > 1,
        max_length=spec.max_length,
        pattern=spec.pattern,
        path=path,
        problems=placed.get(path, []),
        inputs=_inputs(spec, values),
        input_type=_input_type(spec.kind, values),
    )


def metadata_form(target: Target, form: Any, scope: str, placed: dict) -> MetadataForm:
    """One scope's form ("*" for every file, or one file's name) with each field's value,
    where it comes from, and its problems."""
    from . import form as profile_form

    options = target.options or {}
    metadata = target.deposit.metadata or {}
    own = (options.get("file_metadata") or {}).get(scope) or {}
    shown = profile_form.values_for(form, options, scope, metadata)
    prefilled = profile_form.prefill(form, metadata) if scope == ALL_FILES else {}
    slug = "all" if scope == ALL_FILES else "file"
    prefix = f"coscine-{target.pk}-{slug}"
    views = [
        _field_view(
            i,
            spec,
            scope,
            shown,
            origin=_origin(spec.key, own, prefilled, spec.default, scope),
            placed=placed,
            prefix=prefix,
        )
        for i, spec in enumerate(form.fields)
    ]
    title = "Metadata for all files" if scope == ALL_FILES else f"Metadata for {scope} only"
    general = placed.get(f"options.file_metadata.{scope}", [])
    return MetadataForm(scope, slug, title, views, general, overridden=bool(own))


def profile_source(target: Target, uri: str) -> tuple[Source, Any]:
    """The profile's lookup and its form (None while it is fetched, or if it is broken:
    then ``Source.error`` says why)."""
    from . import profiles

    source = _source(target, PROFILE_KEY + uri)
    if not source.cached.ready:
        return source, None
    try:
        return source, profiles.form_for(source.cached.data)
    except profiles.ProfileError as exc:
        broken = Cached(source.key, None, source.cached.fetched_at, str(exc))
        return Source(source.key, broken), None


# --------------------------------------------------------------------------- the whole panel


def project_services(target: Target, services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The publication services of the organisations the target's project belongs to
    (Coscine's projects name theirs by ROR): a request goes to the project's own library.
    All of them when none matches (a project naming no organisation, say)."""
    project_id = str((target.options.get("project") or {}).get("id") or "")
    project = next((p for p in _items(_projects(target)) if str(p.get("id")) == project_id), {})
    own = {str(ror) for ror in project.get("organizations") or []}
    mine = [s for s in services if str(s.get("ror") or "") in own]
    return mine or services


def _published(target: Target) -> dict[str, Any]:
    if target.state != State.PUBLISHED:
        return {}
    chosen = str((target.options.get("publication") or {}).get("service") or "")
    services = _source(target, "publication_services")
    for item in project_services(target, _items(services)):
        value = str(item.get("ror") or "")
        services.choices.append(
            Choice(
                value, str(item.get("name") or value), value == chosen, str(item.get("description"))
            )
        )
    return {
        "handles": list(target.identifiers.filter(scheme="handle")),
        "services": services,
        "message": str((target.options.get("publication") or {}).get("message") or ""),
        "requests": list((target.remote_data or {}).get("publication_requests") or []),
    }


def _resource_part(target: Target, project_id: str, placed: dict) -> dict[str, Any]:
    if not project_id:
        return {}
    options = target.options
    creating = bool(options.get("new_resource")) and not options.get("resource")
    return {
        "resources": _resources(target, project_id),
        "creating": creating,
        "new": _new_resource(target, project_id, placed) if creating else None,
    }


def _profile_part(target: Target, scope: str, placed: dict) -> dict[str, Any]:
    uri = str(target.options.get("application_profile") or "")
    if not uri:
        return {}
    source, form = profile_source(target, uri)
    files = live_files(target)
    scope = scope if scope in files else ""
    return {
        "profile_source": source,
        "profile_form": form,
        "shared_form": metadata_form(target, form, ALL_FILES, placed) if form else None,
        "file_form": metadata_form(target, form, scope, placed) if form and scope else None,
        "files": files,
        "overridden_files": sorted((target.options.get("file_metadata") or {}).keys() - {"*"}),
        "scope": scope,
    }


def _waiting(context: dict[str, Any]) -> bool:
    """Is a lookup the panel shows still being fetched (the panel polls until it is)?"""
    sources = [v for v in context.values() if isinstance(v, Source)]
    sources += _sources_of_new(context.get("new"))
    sources += [v for v in (context.get("published") or {}).values() if isinstance(v, Source)]
    return any(s.loading for s in sources)


def panel_context(target: Target, *, scope: str = "") -> dict[str, Any]:
    """Everything the panel shows, worked out once here (templates do not compute)."""
    placed = _problems(target)
    project = dict(target.options.get("project") or {})
    project_id = str(project.get("id") or "")
    resource = dict(target.options.get("resource") or {})
    context: dict[str, Any] = {
        "target": target,
        "deposit": target.deposit,
        "pk_text": str(target.pk),
        "locked": lifecycle.edit_locked_reason([target], WHAT),
        "stored_in": stored_reason(target),
        "projects": _projects(target),
        "project": project,
        "resource": resource,
        "project_problems": placed.get("options.project", []),
        "resource_problems": placed.get("options.resource", []),
        "profile_problems": placed.get("options.application_profile", []),
        "publication_problems": placed.get("options.publication", []),
        "resource_profile": str(target.options.get("application_profile") or ""),
        **_resource_part(target, project_id, placed),
        **_profile_part(target, scope, placed),
        "published": _published(target),
    }
    shown_paths = _shown_paths(context)
    context["other_problems"] = [
        p
        for path, found in placed.items()
        if path.startswith("options.") and path not in shown_paths
        for p in found
    ]
    context["waiting"] = _waiting(context)
    return context


def _shown_paths(context: dict[str, Any]) -> set[str]:
    paths = {"options.project", "options.resource", "options.application_profile"}
    paths.add("options.publication")
    paths |= {f"options.new_resource.{n}" for n in (*NEW_RESOURCE_FIELDS, "quota")}
    for name in ("shared_form", "file_form"):
        form = context.get(name)
        if form is not None:
            paths |= {f.path for f in form.fields} | {f"options.file_metadata.{form.scope}"}
    return paths


# --------------------------------------------------------------------------- views


def stored_reason(target: Target) -> str:
    """Why the project and resource cannot change: the files are stored in that resource
    (a target's resource is its record; another one would be another deposit)."""
    if not target.remote_id:
        return ""
    return (
        "The files are stored in this resource on Coscine, so its project and resource stay "
        "as they are. To store the deposit elsewhere, add another Coscine target."
    )
