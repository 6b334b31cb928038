"""The first rows of a file as the importer would read them, and the column mapping as one
role per column (the import page's dropdowns), turned back into a ColumnMapping dict.

    preview = preview_import(project, path, "csv", mapping=None)   # detected mapping
    mapping = mapping_from_roles(preview.columns, {"Tweet": "text", "Date": "meta:created_at"})
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotator.images.archive import ImageArchive
from annotator.images.preview import PreviewImages
from annotator.importers.errors import ImportFailed, RowError
from annotator.importers.mapping import (
    CLASSIFICATION,
    META_ALIASES,
    ColumnMapping,
    ResolvedColumns,
    RowBuilder,
    get_field,
)
from annotator.importers.readers import reader_for
from annotator.importers.service import open_source
from config.text_safety import for_display

PREVIEW_ROWS = 10
# Roles a column can take (besides "label:<name>" and "meta:<key>").
TEXT, ID, LABELS, SPANS, OWN_META, IGNORE = "text", "id", "labels", "spans", "meta", "ignore"
IMAGE = "image"


@dataclass
class PreviewRow:
    line: int | None
    cells: list[str]
    text: str = ""
    labels: list[str] | None = None
    spans: int | None = None
    error: str = ""
    posted_at: str = ""  # the posting time the row gets (ISO 8601), when it has one
    thumbnail: str = ""  # a data: URI of the row's image (ZIP and JSONL imports)


@dataclass
class Preview:
    columns: list[str]
    roles: dict[str, str]
    choices: list[tuple[str, str]]
    rows: list[PreviewRow] = field(default_factory=list)
    # File-level problems (no text column, an unusable header) as {"line", "message"}.
    errors: list[dict[str, object]] = field(default_factory=list)


def role_choices(project: Any, fmt: str) -> list[tuple[str, str]]:
    """(value, label) of every role a column of this project's file can take."""
    choices = [(TEXT, "text"), (ID, "external id")]
    if fmt in ("zip", "jsonl"):
        choices.append((IMAGE, "image"))
    if project.task_type in CLASSIFICATION:
        choices.append((LABELS, "labels (names)"))
        choices += [(f"label:{n}", f"{n} (0/1)") for n in project.labels.values_list("name", flat=True)]
    elif project.task_type == "spans" and fmt != "conll":
        choices.append((SPANS, "spans (JSON)"))
    choices += [(f"meta:{key}", f"meta: {key}") for key in META_ALIASES]
    choices += [(OWN_META, "meta (own name)"), (IGNORE, "ignore")]
    return choices


def roles_from_columns(columns: list[str], resolved: ResolvedColumns | None, mapping: ColumnMapping) -> dict[str, str]:
    roles = {c: (IGNORE if c in mapping.ignore else OWN_META) for c in columns}
    if resolved is None:
        return roles
    if resolved.text in roles:
        roles[resolved.text] = TEXT
    if resolved.id in roles:
        roles[resolved.id] = ID
    if resolved.image in roles:
        roles[resolved.image] = IMAGE
    if resolved.label_column in roles:
        roles[resolved.label_column] = LABELS
    for label, column in resolved.label_columns.items():
        if column in roles:
            roles[column] = f"label:{label}"
    if resolved.spans in roles:
        roles[resolved.spans] = SPANS
    for key, column in resolved.meta.items():
        if column in roles:
            roles[column] = OWN_META if key == column else f"meta:{key}"
    if not mapping.keep_extra:
        for column in columns:
            if roles[column] == OWN_META and column not in resolved.meta.values():
                roles[column] = IGNORE
    return roles


def mapping_from_roles(columns: list[str], roles: dict[str, str]) -> dict[str, Any]:
    """The ColumnMapping dict that gives each column its chosen role. ImportFailed (field
    "mapping") names a role given to two columns, or both kinds of label columns."""
    mapping: dict[str, Any] = {"meta": {}, "ignore": []}
    label_columns: dict[str, str] = {}
    owner: dict[str, str] = {}

    def claim(role: str, column: str) -> None:
        if role in owner:
            raise ImportFailed([{
                "line": None, "field": "mapping",
                "message": f"mapping: columns {owner[role]!r} and {column!r} are both mapped to {role}; "
                "choose one",
            }])
        owner[role] = column

    for column in columns:
        role = roles.get(column, OWN_META)
        if role in (TEXT, ID, LABELS, SPANS, IMAGE):
            claim(role, column)
            mapping[role] = column
        elif role.startswith("label:"):
            claim(role, column)
            label_columns[role[len("label:"):]] = column
        elif role.startswith("meta:"):
            claim(role, column)
            mapping["meta"][role[len("meta:"):]] = column
        elif role == OWN_META:
            if column.strip().lower() == "meta":
                continue  # a "meta" column is a JSON object merged into the metadata
            # Named explicitly, so auto-detection cannot give it another role.
            claim(f"meta:{column}", column)
            mapping["meta"][column] = column
        elif role == IGNORE:
            mapping["ignore"].append(column)
        else:
            raise ImportFailed([{
                "line": None, "field": "mapping", "message": f"mapping: unknown role {role!r} for column {column!r}",
            }])
    if label_columns:
        if LABELS in mapping:
            raise ImportFailed([{
                "line": None, "field": "mapping",
                "message": "mapping: choose either one labels column or 0/1 label columns, not both",
            }])
        mapping[LABELS] = label_columns
    return mapping


def _cell(value: Any) -> str:
    text = for_display("" if value is None else str(value))
    return text if len(text) <= 120 else text[:117] + "..."


def _detect_without_text(project: Any, mapping: ColumnMapping, fmt: str, columns: list[str]) -> ResolvedColumns | None:
    """The other columns' roles when no text column was found (or the mapping's is missing),
    so the dropdowns still show what was detected."""
    placeholder = "\x00(no text column)"
    builder = RowBuilder(project, mapping.model_copy(update={"text": placeholder}), fmt)
    try:
        builder.resolve(columns, 1, strict=False)
    except RowError:
        return None
    return builder.columns


def preview_import(project: Any, source: Any, fmt: str, mapping: dict[str, Any] | None = None,
                   n: int = PREVIEW_ROWS) -> Preview:
    """Parse the first `n` records of `source` with `mapping` (None: detected) the way
    `import_file` would, storing nothing. Each row carries its text and labels or its error."""
    archive = ImageArchive(source) if fmt == "zip" else None
    try:
        return _preview(project, archive.open_manifest() if archive else source, fmt,
                        archive.manifest_format if archive else fmt, mapping, n, PreviewImages(archive))
    finally:
        if archive is not None:
            archive.close()


def _preview(project: Any, source: Any, fmt: str, text_fmt: str, mapping: dict[str, Any] | None,
             n: int, images: PreviewImages) -> Preview:
    parsed = ColumnMapping.parse(mapping)
    builder = RowBuilder(project, parsed, fmt, images=images)
    detected: ResolvedColumns | None = None
    columns: list[str] = []
    rows: list[PreviewRow] = []
    errors: list[dict[str, object]] = []
    with open_source(source) as (stream, _counter):
        reader = reader_for(text_fmt, stream)
        for item in reader:
            if len(rows) >= n:
                break
            if isinstance(item, RowError):
                rows.append(PreviewRow(item.line, [], error=item.message))
                if item.fatal:
                    break
                continue
            if not columns:
                columns = list(reader.columns or item.fields)
            cells = [_cell(get_field(item.fields, c)) for c in columns]
            if builder.columns is None and not errors:
                try:
                    strict = bool(reader.columns)
                    builder.resolve(columns, 1 if strict else item.line, strict=strict)
                except RowError as exc:
                    errors.append(exc.as_dict())
                    detected = _detect_without_text(project, parsed, fmt, columns)
            if errors:
                rows.append(PreviewRow(item.line, cells))
                continue
            try:
                row = builder.build(item)
            except RowError as exc:
                rows.append(PreviewRow(item.line, cells, error=exc.message))
                continue
            rows.append(PreviewRow(
                item.line, cells, text=_cell(row.text), labels=row.labels,
                spans=None if row.spans is None else len(row.spans),
                posted_at=str(row.meta.get("created_at") or ""), thumbnail=images.last,
            ))
    if fmt == "conll":  # sentences, not columns: nothing to map
        columns, rows = [], [PreviewRow(r.line, [], text=r.text, spans=r.spans, error=r.error) for r in rows]
    roles = roles_from_columns(columns, builder.columns or detected, parsed)
    # Everything the page shows is spelled out where it holds a character that cannot be sent
    # as UTF-8 (a lone surrogate in a JSON key or value): the preview never answers 500.
    for row in rows:
        row.text, row.error = for_display(row.text), for_display(row.error)
    return Preview(
        columns=[for_display(c) for c in columns],
        roles={for_display(c): role for c, role in roles.items()},
        choices=role_choices(project, fmt),
        rows=rows,
        errors=[{**e, "message": for_display(str(e.get("message", "")))} for e in errors],
    )
