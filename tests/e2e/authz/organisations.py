"""Seeding one world's organisations in accounts through its API: each role's organisation with the world's
caller of that role as its first admin, and a cooperative for operators' calls, each with a member who is no
admin, two invitations and an API key to revoke; in the callers' world, the keys the matrix calls with."""

from __future__ import annotations

from dataclasses import replace

from shared.auth import Role
from shared.kernel.scopes import Scope, scopes_for
from shared.service import load_services
from tests.e2e.authz.world import Account, Client, Orgs, World, call, eventually

KINDS = {
    Role.BUYER: ("buyer", "buyer"),
    Role.AGGREGATOR: ("aggregator", "aggregator"),
    Role.MSME: ("msme", "msme"),
    Role.INSPECTOR: ("inspection_body", "inspector"),
}
"""Each role's organisation: its kind, and the role its members have."""
NEWCOMER = "newcomer"
"""Someone signed in who belongs to no organisation: the only route they may call accepts an invitation."""


async def seed_accounts(client: Client, name: str, orgs: Orgs, *, with_keys: bool) -> dict[str, Account]:
    """Register the world's organisations; each caller's account, by caller (``newcomer`` too). ``with_keys``:
    make the callers' keys, and return once every service knows them."""
    operator = World.caller(orgs, name, Role.ADMIN)
    accounts: dict[str, Account] = {}
    for role, (kind, member_role) in KINDS.items():
        admin = World.caller(orgs, name, role)
        await _register(client, operator, orgs.of(role), kind, f"{role.value}-{name}")
        account = await _account(client, admin, orgs.of(role), member_role, f"{role.value}-{name}")
        if with_keys:
            account = replace(account, keys=await _keys(client, admin, account))
        accounts[role.value] = account
    for role in KINDS:  # the member who is no admin names the organisation's admin where a route names a member
        accounts[member_account(role)] = replace(accounts[role.value], staff=f"{role.value}-{name}", keys={})
    if with_keys:  # an organisation's events reach a service in order: its last key known, all are
        await _known_everywhere(client, [list(a.keys.values())[-1] for a in accounts.values() if a.keys])
    await _on_the_trail(client, operator, [account.org for account in accounts.values()])
    await _register(client, operator, orgs.cooperative, "aggregator", f"chair-{name}")
    accounts[Role.ADMIN.value] = await _account(client, operator, orgs.cooperative, "aggregator", f"admin-{name}")
    newcomer_invitation, token = await _invite(client, operator, orgs.cooperative, "aggregator", f"newcomer-{name}")
    accounts[NEWCOMER] = replace(accounts[Role.ADMIN.value], invitation_id=newcomer_invitation, invitation_token=token)
    return accounts


def member_account(role: Role) -> str:
    """The account of the role's organisation's member who is no admin."""
    return f"{role.value} member"


async def _register(client: Client, operator: dict[str, str], org: str, kind: str, first_admin: str) -> None:
    body = {"org": org, "kind": kind, "name": f"{org} ({kind})", "first_admin": {"subject": first_admin}}
    await call(client, "POST", "/v1/organisations", operator, body)


async def _account(client: Client, admin: dict[str, str], org: str, member_role: str, label: str) -> Account:
    """A member to change and remove, an invitation to accept and one to withdraw, and a key to revoke."""
    staff = f"staff-{label}"
    member = {"subject": staff, "role": member_role, "email": f"{staff}@{org}.example"}
    await call(client, "POST", f"/v1/organisations/{org}/members", admin, member)
    invitation_id, token = await _invite(client, admin, org, member_role, f"invitee-{label}")
    spare_invitation_id, _ = await _invite(client, admin, org, member_role, f"spare-{label}")
    key = {"name": f"revocable {label}", "scopes": ["catalog:read"]}
    made = await call(client, "POST", f"/v1/organisations/{org}/api-keys", admin, key)
    return Account(
        org=org,
        member_role=member_role,
        staff=staff,
        invitation_id=invitation_id,
        invitation_token=token,
        spare_invitation_id=spare_invitation_id,
        key_id=made["api_key"]["id"],
    )


async def _keys(client: Client, admin: dict[str, str], account: Account) -> dict[Scope | None, str]:
    """A key with every scope the organisation's role may hold, and for each of them one with all the others."""
    every = scopes_for(account.member_role)
    keys: dict[Scope | None, str] = {}
    for lacking in [None, *(Scope(scope) for scope in every)]:
        scopes = [scope for scope in every if scope != lacking]
        body = {"name": f"without {lacking}" if lacking else "every scope", "scopes": scopes}
        keys[lacking] = (await call(client, "POST", f"/v1/organisations/{account.org}/api-keys", admin, body))["key"]
    return keys


async def _known_everywhere(client: Client, keys: list[str]) -> None:
    """Wait until every service's identity mirror holds the keys: known, a key is refused an admin route (403)
    rather than unknown (401)."""
    services = [service.name for service in load_services()]

    async def known() -> bool:
        for service in services:
            for key in keys:
                response = await client.get(f"/v1/admin/{service}/dead-letters", headers={"X-API-Key": key})
                if response.status_code == 401:
                    return False
                assert response.status_code == 403, response.text
        return True

    await eventually(known, "every service learning the callers' API keys")


async def _on_the_trail(client: Client, operator: dict[str, str], orgs: list[str]) -> None:
    """Wait until each organisation's audit trail shows what was done to it (the bus brings it to accounts)."""

    async def shown() -> bool:
        for org in set(orgs):
            trail = await call(client, "GET", f"/v1/organisations/{org}/audit", operator, expect=200)
            if not any(entry["stream_id"] == f"organisation-{org}" for entry in trail["items"]):
                return False
        return True

    await eventually(shown, "accounts' events reaching the audit trail")


async def _invite(client: Client, admin: dict[str, str], org: str, role: str, invitee: str) -> tuple[str, str]:
    body = {"email": f"{invitee}@{org}.example", "role": role}
    sent = await call(client, "POST", f"/v1/organisations/{org}/invitations", admin, body)
    return str(sent["invitation"]["id"]), str(sent["token"])
