"""Generate docs/crd-reference.md from the CRD's openAPIV3Schema.

The API reference is never written by hand: this module walks the schema of every served version
of ``crds/autoconfig.falcon.io_inferenceconfigsearches.yaml`` and renders one Markdown table per
object (field, type, default, constraints, required, description), with the object's CEL rules
(``x-kubernetes-validations``) listed under its table together with their messages.

``make docs`` (``python -m falcon_operator.crd_reference``) rewrites the file;
``tests/test_docs.py`` fails while the committed file differs from :func:`render`'s output.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from falcon_operator.core.generated import write_or_check

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "crds" / "autoconfig.falcon.io_inferenceconfigsearches.yaml"
OUTPUT_PATH = REPO / "docs" / "crd-reference.md"

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class ObjectSection:
    """One object of the schema: its path (``spec.model``) and its schema node."""

    path: str
    schema: Schema


def _cell(text: str) -> str:
    """Text made safe for one Markdown line or table cell (pipes and angle brackets escaped)."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _code(value: Any) -> str:
    """A value as inline code: JSON for everything but plain strings."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def type_of(schema: Schema) -> str:
    """The field's type as shown in the tables, e.g. ``[]integer`` or ``map[string]number``."""
    kind = str(schema.get("type", "any"))
    if kind == "array":
        items = schema.get("items", {})
        return "[]" + type_of(items)
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and not schema.get("properties"):
            return "map[string]" + type_of(extra)
        if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
            return "object (free-form)"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return kind


def _range(schema: Schema, low: str, high: str, unit: str) -> list[str]:
    """A range constraint (``minimum`` / ``maximum`` and the like) as text: ``1 ≤ value ≤ 8``."""
    low_op = "<" if low == "minimum" and schema.get("exclusiveMinimum") else "≤"
    high_op = "<" if high == "maximum" and schema.get("exclusiveMaximum") else "≤"
    if low in schema and high in schema:
        return [f"{schema[low]} {low_op} {unit} {high_op} {schema[high]}"]
    if low in schema:
        return [f"{unit} {'>' if low_op == '<' else '≥'} {schema[low]}"]
    if high in schema:
        return [f"{unit} {high_op} {schema[high]}"]
    return []


def constraints(schema: Schema) -> str:
    """Enum, ranges, lengths, sizes, pattern and list semantics of one field."""
    parts: list[str] = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(_code(v) for v in schema["enum"]))
    parts += _range(schema, "minimum", "maximum", "value")
    parts += _range(schema, "minLength", "maxLength", "length")
    parts += _range(schema, "minItems", "maxItems", "items")
    parts += _range(schema, "minProperties", "maxProperties", "keys")
    if "pattern" in schema:
        parts.append("pattern " + _code(schema["pattern"]))
    items = schema.get("items")
    if isinstance(items, Mapping) and items.get("type") != "object":
        inner = constraints(items)
        if inner:
            parts.append("each item: " + inner)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and not schema.get("properties"):
        inner = constraints(extra)
        if inner:
            parts.append("each value: " + inner)
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = ", ".join(schema.get("x-kubernetes-list-map-keys", []))
        parts.append(f"list keyed by {_code(keys)}")
    elif list_type == "set":
        parts.append("distinct values (set)")
    return "; ".join(parts)


def _object_of(schema: Schema) -> Schema | None:
    """The object schema a field documents in its own section (itself or its array items)."""
    if schema.get("type") == "object" and schema.get("properties"):
        return schema
    items = schema.get("items")
    if (
        schema.get("type") == "array"
        and isinstance(items, Mapping)
        and items.get("type") == "object"
        and items.get("properties")
    ):
        return items
    return None


def sections(schema: Schema, path: str = "") -> Iterator[ObjectSection]:
    """Every object with properties, depth first in schema order (the root is ``""``)."""
    yield ObjectSection(path, schema)
    for name, child in schema.get("properties", {}).items():
        obj = _object_of(child)
        if obj is None:
            continue
        child_path = f"{path}.{name}" if path else name
        if obj is not child:
            child_path += "[]"
        yield from sections(obj, child_path)


def _anchor(path: str) -> str:
    """The GitHub anchor of a section heading ``### `path```."""
    return "".join(c for c in path.lower() if c.isalnum() or c in "-_")


def _rules(schema: Schema) -> list[str]:
    """The CEL rules of one schema node as Markdown list items."""
    lines = []
    for rule in schema.get("x-kubernetes-validations", []):
        text = " ".join(str(rule["rule"]).split())
        message = rule.get("message", "")
        lines.append(f"- `{text}` — {_cell(message)}" if message else f"- `{text}`")
    return lines


def render_section(section: ObjectSection) -> list[str]:
    """The heading, description, field table and CEL rules of one object."""
    title = section.path or "(root)"
    out = [f"### `{title}`", ""]
    description = section.schema.get("description")
    if description:
        out += [_cell(str(description)), ""]
    required = set(section.schema.get("required", []))
    out += [
        "| field | type | default | constraints | required | description |",
        "|---|---|---|---|---|---|",
    ]
    for name, child in section.schema.get("properties", {}).items():
        field = f"{section.path}.{name}" if section.path else name
        label = f"`{field}`"
        obj = _object_of(child)
        if obj is not None:
            target = field + ("[]" if obj is not child else "")
            label = f"[`{field}`](#{_anchor(target)})"
        default = _code(child["default"]) if "default" in child else ""
        desc = _cell(str(child.get("description", "")))
        rules = child.get("x-kubernetes-validations", [])
        item_rules = child.get("items", {}).get("x-kubernetes-validations", [])
        if (rules or item_rules) and obj is None:
            desc += (
                (" " if desc else "")
                + "CEL: "
                + "; ".join(
                    f"{_code(' '.join(str(r['rule']).split()))} ({_cell(r.get('message', ''))})"
                    for r in [*rules, *item_rules]
                )
            )
        out.append(
            f"| {label} | {_cell(type_of(child))} | {default} | {constraints(child)} | "
            f"{'yes' if name in required else ''} | {desc} |"
        )
    rules = _rules(section.schema)
    if rules:
        out += ["", "Validation rules (CEL):", "", *rules]
    out.append("")
    return out


def render(crd: Schema) -> str:
    """The whole reference for one CRD document."""
    spec = crd["spec"]
    names = spec["names"]
    group = spec["group"]
    out = [
        f"# {names['kind']} API reference",
        "",
        "<!-- GENERATED by `make docs` (python -m falcon_operator.crd_reference) from",
        "     crds/autoconfig.falcon.io_inferenceconfigsearches.yaml; do not edit by hand.",
        "     tests/test_docs.py fails while this file differs from the generator's output. -->",
        "",
        f"Group `{group}`, kind `{names['kind']}` (plural `{names['plural']}`, short names "
        + ", ".join(f"`{n}`" for n in names.get("shortNames", []))
        + f"), scope {spec['scope']}.",
        "",
        "Columns: *default* is applied by the API server when the field is omitted; "
        "*constraints* are enforced by the API server's schema validation; *required* marks "
        "fields that must be set whenever their parent object is. CEL rules "
        "(`x-kubernetes-validations`) are listed under the object they belong to, "
        "or in the description of a list field; `self == oldSelf` makes a field immutable.",
        "",
    ]
    for version in spec["versions"]:
        if not version.get("served", False):
            continue
        storage = ", storage version" if version.get("storage") else ""
        out += [f"## `{group}/{version['name']}`{storage}", ""]
        columns = version.get("additionalPrinterColumns", [])
        if columns:
            out += [
                "`kubectl get ics` columns:",
                "",
                "| column | type | JSON path | description |",
                "|---|---|---|---|",
            ]
            out += [
                f"| {c['name']} | {c['type']} | `{c['jsonPath']}` | "
                f"{_cell(c.get('description', ''))} |"
                for c in columns
            ]
            out.append("")
        for section in sections(version["schema"]["openAPIV3Schema"]):
            out += render_section(section)
    return "\n".join(out).rstrip("\n") + "\n"


def render_file(path: Path = CRD_PATH) -> str:
    """The reference for the CRD file at ``path``."""
    crd: Schema = yaml.safe_load(path.read_text())
    return render(crd)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the reference (or, with ``--check``, exit 1 if the committed one is stale)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--crd", type=Path, default=CRD_PATH, help="CRD YAML file")
    parser.add_argument("--out", type=Path, default=OUTPUT_PATH, help="Markdown file to write")
    parser.add_argument("--check", action="store_true", help="only check that --out is current")
    args = parser.parse_args(argv)
    text = render_file(args.crd)
    return write_or_check(args.out, text, check=args.check, what="the CRD reference")


if __name__ == "__main__":
    raise SystemExit(main())
