"""The README's table of who may call each route, written from the matrix's rules, so what the docs say is what
the matrix tests. ``python -m tests.e2e.authz.table`` rewrites it in README.md; a unit test fails when they differ.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

from shared.auth import Role
from tests.e2e.authz.operations import guarded_roles
from tests.e2e.authz.rules import RULES, Rule

README = Path(__file__).resolve().parents[3] / "README.md"
BEGIN = "<!-- access table: written by `python -m tests.e2e.authz.table` from tests/e2e/authz/rules.py -->"
END = "<!-- end of access table -->"
COLUMNS = (Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR)
_ADMIN_PATH = re.compile(r"^/v1/admin/[^/]+/")
_PARAMETER = re.compile(r"{\w+}")


def cell(path: str, rule: Rule, role: Role, guarded: frozenset[Role]) -> str:
    """What a person of ``role`` (or its organisation's key holding the scope) may do on the route; ``guarded``
    are the roles the route's guard lets through."""
    if role not in rule.roles:
        refused = "—" if rule.denied == 403 else f"— ({rule.denied})"
        return f"{refused} ³" if role in guarded else refused
    if not _PARAMETER.search(path):
        return "yes"
    return {"hidden": "own", "refused": "own; others' 403", "visible": "any"}[rule.access(role)]


def rows(rules: Mapping[tuple[str, str], Rule]) -> list[str]:
    guards = guarded_roles()
    seen: set[str] = set()
    lines = []
    for (method, path), rule in rules.items():
        guarded = guards.get((method, path), frozenset())
        shown = _ADMIN_PATH.sub("/v1/admin/{service}/", path)
        route = f"`{method} {shown}`" + (" ¹" if rule.newcomers else "") + (" ²" if rule.managed else "")
        if route in seen:
            continue
        seen.add(route)
        scope = f"`{rule.scope.value}`" if rule.scope else ("operators only" if not rule.roles else "people only")
        cells = " | ".join(cell(path, rule, role, guarded) for role in COLUMNS)
        lines.append(f"| {route} | {scope} | {cells} |")
    return lines


def render(rules: Mapping[tuple[str, str], Rule] = RULES) -> str:
    header = "| route | API key needs | " + " | ".join(role.value for role in COLUMNS) + " |"
    divider = "|---|---|" + "---|" * len(COLUMNS)
    notes = (
        "*own*: the caller's organisation's objects (another's answer 404, as if they did not exist); "
        "*any*: every organisation's; *yes*: a list or a creation, holding only what the caller may see or make; "
        "—: 403 (or the status shown). A key of the organisation gets what its people get if it holds the scope, "
        "and 403 otherwise. Operators (`admin`) may call every route; no key acts as an operator. "
        "¹ Also someone signed in with OpenID Connect who belongs to no organisation yet. "
        "² Only the organisation's admins (`org_admin`) among its members. "
        "³ The route lets the role through and the object decides: its users act on what their organisation "
        "owns or registered (an aggregator, on an MSME it registered), and are refused the rest as shown."
    )
    return "\n".join([BEGIN, header, divider, *rows(rules), "", textwrap.fill(notes, width=115), END])


def written(readme: str) -> str:
    """The table as the README has it now."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        raise ValueError(f"README.md has no table between {BEGIN!r} and {END!r}")
    return readme[start : end + len(END)]


def main() -> int:
    readme = README.read_text()
    README.write_text(readme.replace(written(readme), render()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
