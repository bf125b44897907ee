"""The matrix: every operation × every caller (each role, and no token) × the caller's own object or a foreign one;
the request each case sends, the answers its rule admits, and what the answer must not reveal."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from shared.auth import Role
from tests.e2e.authz.payloads import Target, payload
from tests.e2e.authz.rules import Rule
from tests.e2e.authz.world import World

Side = Literal["own", "foreign", "mixed"]
"""The caller's own object, the other organisation's, or (for nested objects) the caller's own parent with the
other organisation's child: a pair that does not exist, whoever asks."""
CALLERS: tuple[Role | None, ...] = (None, Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR, Role.ADMIN)
PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    caller: Role | None
    side: Side

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.caller.value if self.caller else 'anonymous'} {self.side}"


def names_an_object(path: str) -> bool:
    return PATH_PARAMETER.search(path) is not None


def sides(path: str, rule: Rule) -> tuple[Side, ...]:
    """A route naming an object (or filtering a list by one) is called on both worlds' objects; a nested object
    the rule hides is also asked for under the caller's own parent."""
    if len(PATH_PARAMETER.findall(path)) >= 2 and rule.foreign == "hidden" and not rule.foreign_by_role:
        return ("own", "foreign", "mixed")
    return ("own", "foreign") if names_an_object(path) or rule.foreign_filter else ("own",)


def matrix(rules: Mapping[tuple[str, str], Rule]) -> list[Case]:
    """Every case, reads before commands, so no command changes what a read is checked on."""
    cases: list[Case] = []
    for method, path in sorted(rules, key=lambda operation: operation[0] != "GET"):
        rule = rules[method, path]
        cases += [Case(method, path, None, "own")]
        cases += [Case(method, path, caller, side) for caller in CALLERS if caller for side in sides(path, rule)]
    return cases


@dataclass(frozen=True)
class Expected:
    """``allowed``: 2xx, or a status of ``statuses`` (the object's state refused it); otherwise one of ``statuses``."""

    verdict: Literal["unauthenticated", "denied", "hidden", "refused", "allowed"]
    statuses: frozenset[int]

    def admits(self, status: int) -> bool:
        return (self.verdict == "allowed" and 200 <= status < 300) or status in self.statuses

    def __str__(self) -> str:
        statuses = [str(status) for status in sorted(self.statuses)]
        shown = ["2xx", *statuses] if self.verdict == "allowed" else statuses
        return f"{self.verdict} ({', '.join(shown)})"


def expected(rule: Rule, case: Case) -> Expected:
    role = case.caller
    if rule.open:
        return Expected("allowed", rule.settled)
    if role is None:
        return Expected("unauthenticated", frozenset({401}))
    allowed = Expected("allowed", rule.settled | ({404} if rule.absent else set()))
    if role not in rule.roles and role is not Role.ADMIN:
        return Expected("denied", frozenset({rule.denied_by_role.get(role, rule.denied)}))
    if case.side == "mixed":
        return Expected("hidden", frozenset({404}))
    if role is Role.ADMIN:
        return allowed
    if case.side == "foreign" and names_an_object(case.path):
        access = rule.access(role)
        if access == "hidden":
            return Expected("hidden", frozenset({404}))
        if access == "refused":
            return Expected("refused", frozenset({403}))
    return allowed


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    def mentions(self, text: str) -> bool:
        """Whether the caller itself sent ``text`` (a 404 may well repeat the id it was asked for)."""
        return text in self.url or text in json.dumps(self.body)


def build(case: Case, rule: Rule, home: World, foreign: World, serial: int) -> Call:
    """The request of ``case``: the caller is of ``home``; a foreign case names ``foreign``'s object."""
    world = foreign if case.side == "foreign" and names_an_object(case.path) else home
    parent = PATH_PARAMETER.search(case.path)

    def value(match: re.Match[str]) -> str:
        named = foreign if case.side == "mixed" and parent and match.start() > parent.start() else world
        return named.path_values()[rule.objects.get(match[1], match[1])]

    path = PATH_PARAMETER.sub(value, case.path)
    query = dict(rule.query)
    if case.side == "foreign" and rule.foreign_filter is not None:
        query |= rule.foreign_filter(foreign)
    url = f"{path}?{urlencode(query)}" if query else path
    headers = dict(rule.headers) | (home.headers(case.caller) if case.caller else {})
    return Call(case.method, url, headers, payload(case.method, case.path, Target(world, home, case.caller, serial)))


def leaks(caller: Role | None, call: Call, answer: str, foreign: World) -> list[str]:
    """The foreign world's private strings in ``answer`` that this caller may not read (admins read everything)."""
    if caller is Role.ADMIN:
        return []
    return [
        secret
        for secret, readers in foreign.secrets().items()
        if caller not in readers and secret in answer and not call.mentions(secret)
    ]
