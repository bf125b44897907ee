"""The matrix: every operation × every caller (no token, each role, each role's API keys with and without the
route's scope, a newcomer) × the caller's own object or a foreign one; the request each case sends, the answers
its rule admits, and what the answer must not reveal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from shared.auth import Role
from shared.kernel.scopes import scopes_for
from tests.e2e.authz.organisations import NEWCOMER, member_account
from tests.e2e.authz.payloads import Target, payload
from tests.e2e.authz.rules import Rule
from tests.e2e.authz.world import World

NewcomerToken = Callable[[str], dict[str, str]]
"""The Authorization header of an OpenID Connect subject who belongs to no organisation."""

Side = Literal["own", "foreign", "mixed"]
"""The caller's own object, the other organisation's, or (for nested objects) the caller's own parent with the
other organisation's child: a pair that does not exist, whoever asks."""
PATH_PARAMETER = re.compile(r"{(\w+)}")
ROLES = (Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR, Role.ADMIN)
CallerKind = Literal["anonymous", "person", "member", "key", "key lacking the scope", "newcomer"]


@dataclass(frozen=True)
class Caller:
    """Who sends a case's request: no one, a person of a role (an admin of its organisation), a member of that
    organisation who is no admin, an API key of the role's organisation holding every scope the role may hold or
    all but the route's, or a newcomer (signed in with OpenID Connect, a member of no organisation)."""

    kind: CallerKind
    role: Role | None = None

    @property
    def account(self) -> str:
        """Whose organisation the accounts routes name for this caller (``World.accounts``)."""
        if self.kind == "newcomer":
            return NEWCOMER
        if self.kind == "member" and self.role:
            return member_account(self.role)
        return self.role.value if self.role else Role.BUYER.value

    def __str__(self) -> str:
        if self.role is None:
            return self.kind
        return self.role.value if self.kind == "person" else f"{self.role.value} {self.kind}"


ANONYMOUS, A_NEWCOMER = Caller("anonymous"), Caller("newcomer")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    caller: Caller
    side: Side

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} {self.caller} {self.side}"


def names_an_object(path: str) -> bool:
    return PATH_PARAMETER.search(path) is not None


def sides(path: str, rule: Rule) -> tuple[Side, ...]:
    """A route naming an object (or filtering a list by one) is called on both worlds' objects; a nested object
    the rule hides is also asked for under the caller's own parent."""
    if len(PATH_PARAMETER.findall(path)) >= 2 and rule.nested and rule.foreign == "hidden" and not rule.foreign_by_role:
        return ("own", "foreign", "mixed")
    return ("own", "foreign") if names_an_object(path) or rule.foreign_filter else ("own",)


def callers(path: str, rule: Rule) -> list[tuple[Caller, Side]]:
    """Who calls the route, on which sides: people of every role everywhere; on accounts' routes, members who are
    no admins on their own; keys of every role on their own objects, and of the roles the route serves on the
    other organisation's too; keys lacking the route's scope (of the roles that may hold it) on their own; a
    newcomer where the route lets newcomers in, and once elsewhere."""
    everywhere = sides(path, rule)
    found: list[tuple[Caller, Side]] = [(ANONYMOUS, "own")]
    found += [(Caller("person", role), side) for role in ROLES for side in everywhere]
    if rule.managed is not None:
        found += [(Caller("member", role), "own") for role in ROLES[:-1]]
    for role in ROLES[:-1]:
        # a key of a role the route refuses is refused on its own objects as on any: once is enough
        key_sides = [side for side in everywhere if side != "mixed"] if role in rule.roles else ["own"]
        found += [(Caller("key", role), side) for side in key_sides]
        if rule.scope is not None and rule.scope.value in scopes_for(role.value):
            found += [(Caller("key lacking the scope", role), "own")]
    found += [(A_NEWCOMER, side) for side in (everywhere if rule.newcomers else ("own",))]
    return found


def matrix(operations: Collection[tuple[str, str]], rules: Mapping[tuple[str, str], Rule]) -> list[Case]:
    """Every case of every operation, reads before commands (so no command changes what a read is checked on),
    commands in the rules' order. An operation without a rule has one case, which fails for want of it."""
    ruled = [operation for operation in rules if operation in operations]
    ordered = sorted(ruled, key=lambda operation: operation[0] != "GET") + sorted(set(operations) - set(rules))
    return [
        Case(method, path, caller, side)
        for method, path in ordered
        for caller, side in (callers(path, rules[method, path]) if (method, path) in rules else [(ANONYMOUS, "own")])
    ]


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
    caller, role = case.caller, case.caller.role
    if rule.open:
        return Expected("allowed", rule.settled)
    if caller.kind == "anonymous":
        return Expected("unauthenticated", frozenset({401}))
    if caller.kind == "newcomer" and not rule.newcomers:
        return Expected("denied", frozenset({403}))
    if caller.kind == "member" and rule.managed:
        return Expected("denied", frozenset({403}))
    if caller.kind == "key lacking the scope" or (caller.kind == "key" and not holds(rule, caller)):
        return Expected("denied", frozenset({403}))
    allowed = Expected("allowed", rule.settled | ({404} if rule.absent else set()))
    if role is not None and role not in rule.roles and role is not Role.ADMIN:
        return Expected("denied", frozenset({rule.denied_by_role.get(role, rule.denied)}))
    if case.side == "mixed":
        return Expected("hidden", frozenset({404}))
    if role is Role.ADMIN and Role.ADMIN not in rule.foreign_by_role:
        return allowed
    if case.side == "foreign" and names_an_object(case.path):
        access = rule.access(role)
        if access == "hidden":
            return Expected("hidden", frozenset({404}))
        if access == "refused":
            return Expected("refused", frozenset({403}))
    return allowed


def holds(rule: Rule, caller: Caller) -> bool:
    """Whether the caller's key holds the route's scope: its role may hold it, and the key holds all its role may."""
    return rule.scope is not None and caller.role is not None and rule.scope.value in scopes_for(caller.role.value)


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    def mentions(self, text: str) -> bool:
        """Whether the caller itself sent ``text`` (a 404 may well repeat the id it was asked for)."""
        return text in self.url or text in json.dumps(self.body)


def build(case: Case, rule: Rule, home: World, foreign: World, serial: int, newcomer: NewcomerToken) -> Call:
    """The request of ``case``: the caller is of ``home``; a foreign case names ``foreign``'s object."""
    world = foreign if case.side == "foreign" and names_an_object(case.path) else home
    parent = PATH_PARAMETER.search(case.path)
    account = case.caller.account

    def value(match: re.Match[str]) -> str:
        named = foreign if case.side == "mixed" and parent and match.start() > parent.start() else world
        return named.path_values(account)[rule.objects.get(match[1], match[1])]

    path = PATH_PARAMETER.sub(value, case.path)
    query = dict(rule.query)
    if case.side == "foreign" and rule.foreign_filter is not None:
        query |= rule.foreign_filter(foreign)
    url = f"{path}?{urlencode(query)}" if query else path
    headers = dict(rule.headers) | credentials(case.caller, rule, home, serial, newcomer)
    target = Target(world, home, case.caller.role, serial, account)
    return Call(case.method, url, headers, payload(case.method, case.path, target))


def credentials(caller: Caller, rule: Rule, home: World, serial: int, newcomer: NewcomerToken) -> dict[str, str]:
    """The caller's Authorization header: a token of its role, its organisation's key, or a newcomer's (a fresh
    subject each time, as one who accepts an invitation is a member from then on)."""
    match caller.kind:
        case "anonymous":
            return {}
        case "newcomer":
            return newcomer(f"newcomer-{serial}")
        case "person":
            assert caller.role is not None
            return home.headers(caller.role)
        case "member":
            assert caller.role is not None
            return home.member_headers(caller.role)
        case _:
            assert caller.role is not None
            keys = home.accounts[caller.role.value].keys
            lacking = caller.kind == "key lacking the scope" and rule.scope is not None
            return {"Authorization": f"Bearer {keys[rule.scope if lacking else None]}"}


def leaks(caller: Role | None, call: Call, answer: str, foreign: World) -> list[str]:
    """The foreign world's private strings in ``answer`` that this caller may not read (admins read everything)."""
    if caller is Role.ADMIN:
        return []
    return [
        secret
        for secret, readers in foreign.secrets().items()
        if caller not in readers and secret in answer and not call.mentions(secret)
    ]
