"""A tracking plan on disk: a folder of JSON Schema files, or one Lexicon bulk-upload file.

The folder form holds ``event/<event name>.json`` and ``profile/$user.json``; each file is
the ``schemaJson`` that Mixpanel's Lexicon Schemas API takes, unchanged. The bulk form is the
body of ``POST /api/app/projects/{id}/schemas``::

    {"entries": [{"entityType": "event", "name": "Signed up", "schemaJson": {...}}]}

A name that cannot be a file name as it is (``/``, ``%``, a leading dot) is written
percent-encoded, and decoded when read.

>>> entry = Entry("event", "Signed up", {"properties": {"plan": {"type": "string"}}})
>>> file_name(entry.name)
'Signed up.json'
>>> file_name("a/b")
'a%2Fb.json'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, unquote

import attrs

from mixtrack.errors import PlanError

__all__ = [
    "ENTITY_TYPES",
    "Entry",
    "bulk_entries",
    "file_name",
    "read_entries",
    "write_bulk",
    "write_folder",
]

#: The entity types a plan holds, as Lexicon names them (and the folders of the folder form).
ENTITY_TYPES = ("event", "profile")
_JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
_METADATA_FIELDS: dict[str, type | tuple[type, ...]] = {
    "displayName": str,
    "tags": list,
    "hidden": bool,
    "dropped": bool,
    "contacts": list,
    "teamContacts": list,
}


@attrs.frozen
class Entry:
    """One schema of a plan: an event's (``entity_type="event"``) or the user profile's
    (``entity_type="profile"``, ``name="$user"``), with its ``schemaJson`` as Lexicon has it.

    >>> Entry("event", "Signed up", {"description": "A new account"}).description
    'A new account'
    """

    entity_type: str
    name: str
    schema: Mapping[str, Any]

    @property
    def description(self) -> str:
        value = self.schema.get("description")
        return value if isinstance(value, str) else ""

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        value = self.schema.get("properties")
        return cast("Mapping[str, Mapping[str, Any]]", value) if isinstance(value, Mapping) else {}

    @property
    def required(self) -> tuple[str, ...]:
        value = self.schema.get("required")
        return tuple(value) if isinstance(value, list) else ()

    @property
    def metadata(self) -> Mapping[str, Any]:
        """``metadata["com.mixpanel"]``: displayName, tags, hidden, dropped, ..."""
        outer = self.schema.get("metadata")
        inner = outer.get("com.mixpanel") if isinstance(outer, Mapping) else None
        return inner if isinstance(inner, Mapping) else {}

    def as_bulk(self) -> dict[str, Any]:
        """This entry as one item of a bulk upload's ``entries``."""
        return {"entityType": self.entity_type, "name": self.name, "schemaJson": self.schema}


def file_name(name: str) -> str:
    """The file that holds the schema of ``name`` in the folder form."""
    encoded = quote(name, safe=" $!#&'()+,;=@[]^`{}~-_")
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded + ".json"


def read_entries(path: str | os.PathLike[str]) -> list[Entry]:
    """Every entry of the plan at ``path`` (a folder or a bulk JSON file), each checked for
    the shape Lexicon accepts. Raises :class:`~mixtrack.PlanError` naming the file and field."""
    where = Path(path)
    if where.is_dir():
        entries = list(_read_folder(where))
    elif where.is_file():
        entries = bulk_entries(_read_json(where), str(where))
    else:
        raise PlanError(
            f"no tracking plan at {str(path)!r}: give a folder holding event/<name>.json "
            "files, or a Lexicon bulk JSON file"
        )
    return _unique_sorted(entries, str(path))


def _unique_sorted(entries: list[Entry], path: str) -> list[Entry]:
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.entity_type, entry.name)
        if key in seen:
            raise PlanError(f"{path}: {entry.entity_type} {entry.name!r} is given twice")
        seen.add(key)
    return sorted(entries, key=lambda e: (ENTITY_TYPES.index(e.entity_type), e.name))


def _read_folder(root: Path) -> Iterator[Entry]:
    if not any((root / kind).is_dir() for kind in ENTITY_TYPES):
        raise PlanError(
            f"{root} holds no event/ or profile/ folder: a plan folder holds "
            "event/<name>.json and profile/$user.json"
        )
    for kind in ENTITY_TYPES:
        folder = root / kind
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.json")):
            name = unquote(file.name[: -len(".json")])
            yield _entry(kind, name, _read_json(file), str(file))


def bulk_entries(body: Any, file: str) -> list[Entry]:
    """The entries of a bulk upload body (or of ``GET /schemas``'s answer), checked."""
    return _unique_sorted(list(_bulk(body, file)), file)


def _bulk(body: Any, file: str) -> Iterator[Entry]:
    if isinstance(body, list):
        items: Any = body
    elif isinstance(body, Mapping) and isinstance(body.get("entries"), list):
        items = body["entries"]
    elif isinstance(body, Mapping) and isinstance(body.get("results"), list):
        items = body["results"]  # what GET /schemas answers
    else:
        raise PlanError(
            f"{file}: a bulk plan file is {{'entries': [{{'entityType', 'name', "
            "'schemaJson'}}, ...]}}"
        )
    for index, item in enumerate(items):
        where = f"{file}: entries[{index}]"
        if not isinstance(item, Mapping):
            raise PlanError(f"{where} must be an object, got {type(item).__name__}")
        kind, name = item.get("entityType"), item.get("name")
        if kind not in ENTITY_TYPES:
            raise PlanError(f"{where}: entityType must be 'event' or 'profile', got {kind!r}")
        if not isinstance(name, str) or not name:
            raise PlanError(f"{where}: name must be a non-empty string, got {name!r}")
        yield _entry(kind, name, item.get("schemaJson"), f"{where} ({kind} {name!r})")


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read {file}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"{file} is not JSON: {exc}") from None


def _entry(kind: str, name: str, schema: Any, where: str) -> Entry:
    if not isinstance(schema, Mapping):
        raise PlanError(f"{where}: a schema must be a JSON object, got {type(schema).__name__}")
    if kind == "profile" and name != "$user":
        raise PlanError(f"{where}: the only profile schema Lexicon has is '$user', got {name!r}")
    _check_shape(schema, where)
    return Entry(kind, name, schema)


def _check_shape(schema: Mapping[str, Any], where: str) -> None:
    """The Lexicon shape, before the JSON Schema meta-schema (checked by the validator)."""
    expect: dict[str, type | tuple[type, ...]] = {
        "description": str,
        "properties": Mapping,
        "required": list,
        "additionalProperties": (bool, Mapping),
        "metadata": Mapping,
    }
    for field, kind in expect.items():
        if field in schema and not isinstance(schema[field], kind):
            raise PlanError(
                f"{where}: {field!r} must be {_kind_name(kind)}, got {type(schema[field]).__name__}"
            )
    if schema.get("type", "object") != "object":
        raise PlanError(f"{where}: an event's schema is of type 'object', got {schema['type']!r}")
    properties = schema.get("properties", {})
    for prop, rule in properties.items():
        if not isinstance(rule, Mapping):
            raise PlanError(f"{where}: property {prop!r} must be a schema object")
        types = rule.get("type")
        for one in types if isinstance(types, list) else [types] if types else []:
            if one not in _JSON_TYPES:
                raise PlanError(
                    f"{where}: property {prop!r} has type {one!r}; JSON Schema types are "
                    f"{', '.join(sorted(_JSON_TYPES))}"
                )
    for name in schema.get("required", []):
        if name not in properties:
            raise PlanError(f"{where}: {name!r} is required but not among the properties")
    metadata = schema.get("metadata", {}).get("com.mixpanel", {})
    if not isinstance(metadata, Mapping):
        raise PlanError(f"{where}: metadata['com.mixpanel'] must be an object")
    for field, kind in _METADATA_FIELDS.items():
        if metadata.get(field) is not None and not isinstance(metadata[field], kind):
            raise PlanError(
                f"{where}: metadata['com.mixpanel'][{field!r}] must be {_kind_name(kind)}, "
                f"got {type(metadata[field]).__name__}"
            )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", bool: "true or false", Mapping: "an object"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def dumps(value: Any) -> str:
    """JSON as the plan's files hold it: sorted keys, two-space indent, a final newline, so
    rewriting an unchanged plan changes no byte."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_folder(entries: Iterable[Entry], root: str | os.PathLike[str]) -> list[Path]:
    """Write ``entries`` in the folder form under ``root``, removing the schema files of
    entities no longer in the plan (the ``.json`` files of ``event/`` and ``profile/`` only);
    returns the files written."""
    written = []
    for entry in entries:
        file = Path(root) / entry.entity_type / file_name(entry.name)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(dumps(entry.schema), encoding="utf-8")
        written.append(file)
    for kind in ENTITY_TYPES:
        for stale in set((Path(root) / kind).glob("*.json")) - set(written):
            stale.unlink()
    return written


def write_bulk(entries: Iterable[Entry], file: str | os.PathLike[str]) -> Path:
    """Write ``entries`` as one Lexicon bulk-upload file."""
    target = Path(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps({"entries": [e.as_bulk() for e in entries]}), encoding="utf-8")
    return target
