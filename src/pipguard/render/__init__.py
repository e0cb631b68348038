"""Rendering of findings: JSON documents and rich tables. Takes findings, returns values."""

from __future__ import annotations

from pipguard.render.documents import (
    check_to_json,
    clash_to_json,
    install_to_json,
    problem_to_json,
    shadowed_to_json,
    startup_to_json,
)
from pipguard.render.hints import (
    check_summary,
    group_hint,
    overwritten_summary,
    planned_hint,
    stop_summary,
    would_summary,
)
from pipguard.render.tables import (
    clash_tables,
    dependency_table,
    file_state_table,
    owner_lines,
    problem_table,
    shadowed_table,
    startup_table,
    unlisted_table,
)
from pipguard.render.text import one_line, shown_path, visible

__all__ = [
    "check_summary",
    "check_to_json",
    "clash_tables",
    "clash_to_json",
    "dependency_table",
    "file_state_table",
    "group_hint",
    "install_to_json",
    "one_line",
    "overwritten_summary",
    "owner_lines",
    "planned_hint",
    "problem_table",
    "problem_to_json",
    "shadowed_table",
    "shadowed_to_json",
    "shown_path",
    "startup_table",
    "startup_to_json",
    "stop_summary",
    "unlisted_table",
    "visible",
    "would_summary",
]
