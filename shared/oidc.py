"""Access tokens from an OpenID Connect provider: discovery, a cached JWKS, RS256/ES256, audience, bounded skew.

Configured by ``GOTONG_OIDC_ISSUER`` (the provider's issuer URL; its ``/.well-known/openid-configuration``
names the JWKS) and ``GOTONG_OIDC_AUDIENCE``. Keys are cached by ``kid``; a token signed with a key id the cache
does not hold makes the verifier fetch the JWKS again, at most once per ``GOTONG_OIDC_REFRESH_SECONDS``, so a
stream of tokens with made-up key ids cannot turn into a stream of requests to the provider. Each fetch
replaces the whole set, so a key the provider withdrew stops being accepted at the next fetch (and the set is
fetched again, within the same bound, once it is older than ``KEYS_MAX_AGE``).

The caller's organisation and role come from the claims named by ``GOTONG_OIDC_ORG_CLAIM`` and
``GOTONG_OIDC_ROLE_CLAIM`` when the token carries them, or else from the subject's membership in the identity
mirror (with several memberships, ``X-Gotong-Org`` picks one). A subject with no membership at all is a
newcomer (``Role.NEWCOMER``, no organisation), whom only the route accepting an invitation lets through.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from shared.config import Settings
from shared.kernel.errors import Unauthenticated

if TYPE_CHECKING:
    from jwt.types import Options

    from shared.auth import Principal
    from shared.identities import IdentityMirror

ALGORITHMS = ("RS256", "ES256")
KEYS_MAX_AGE = 300.0  # seconds a fetched key set is trusted before it is fetched again
FETCH_TIMEOUT = 5.0


class OidcVerifier:
    """Verifies one provider's access tokens and says who they name."""

    def __init__(
        self,
        issuer: str,
        *,
        audience: str | None,
        org_claim: str | None = None,
        role_claim: str | None = None,
        refresh_seconds: float = 30.0,
        leeway_seconds: int = 30,
    ) -> None:
        if not 0 <= leeway_seconds <= 60:
            raise ValueError("the clock skew allowed must be 0 to 60 seconds")
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.org_claim = org_claim
        self.role_claim = role_claim
        self.refresh_seconds = refresh_seconds
        self.leeway = leeway_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """How many times the key set was fetched (the bound on refetches is tested with it)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier | None:
        if not settings.oidc_issuer:
            return None
        return cls(
            settings.oidc_issuer,
            audience=settings.oidc_audience,
            org_claim=settings.oidc_org_claim,
            role_claim=settings.oidc_role_claim,
            refresh_seconds=settings.oidc_refresh_seconds,
            leeway_seconds=settings.oidc_leeway_seconds,
        )

    def issued(self, token: str) -> bool:
        """Does the token say this provider issued it? (Checked for real by ``verify``.)"""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return isinstance(claims.get("iss"), str) and claims["iss"].rstrip("/") == self.issuer

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"tokens of {self.issuer} must be signed with {' or '.join(ALGORITHMS)}")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key (kid)")
        key = await self._key(kid)
        options: Options = {"require": ["sub", "exp", "iss"], "verify_aud": self.audience is not None}
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options=options,
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from error
        return claims

    async def principal(self, claims: dict[str, Any], identities: IdentityMirror, org: str | None) -> Principal:
        """Who the verified claims name: by the configured claims, or by the subject's membership."""
        from shared.auth import Principal, Role, claimed_role

        subject = str(claims["sub"])
        claimed_org = claims.get(self.org_claim) if self.org_claim else None
        claimed = claims.get(self.role_claim) if self.role_claim else None
        if isinstance(claimed_org, str) and claimed_org and isinstance(claimed, str):
            role = claimed_role(claimed)
            if role is None:
                raise Unauthenticated(f"the token's {self.role_claim} names no known role")
            return Principal(sub=subject, role=role, org=claimed_org)
        every = await identities.memberships(subject)
        if not every:
            return Principal(sub=subject, role=Role.NEWCOMER, org="")
        memberships = [m for m in every if m.org == org] if org is not None else every
        if not memberships:
            raise Unauthenticated(f"{subject} is not a member of {org}")
        if len(memberships) > 1:
            names = ", ".join(m.org for m in memberships)
            raise Unauthenticated(f"{subject} belongs to {names}: name one in the X-Gotong-Org header")
        return Principal(sub=subject, role=Role(memberships[0].role), org=memberships[0].org)

    async def _key(self, kid: str) -> jwt.PyJWK:
        if self._stale():
            await self._refresh(kid)
        key = self._keys.get(kid)
        if key is None:
            await self._refresh(kid)
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(f"the token is signed with a key {self.issuer} does not publish ({kid})")
        return key

    def _stale(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at > KEYS_MAX_AGE

    async def _refresh(self, kid: str) -> None:
        """Fetch the key set again, unless it was fetched within the bound (or by someone else meanwhile)."""
        async with self._lock:
            if self._fetched_at is not None and time.monotonic() - self._fetched_at < self.refresh_seconds:
                return
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as error:
                self._fetched_at = time.monotonic()  # a provider that is down is not asked again at once either
                if kid in self._keys:
                    return
                raise Unauthenticated(
                    f"the signing keys of {self.issuer} could not be fetched: {type(error).__name__} {error}"
                ) from error
            self._keys = keys
            self._fetched_at = time.monotonic()
            self.fetches += 1

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            if self._jwks_uri is None:
                response = await client.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                discovery = response.json()
                if str(discovery.get("issuer", "")).rstrip("/") != self.issuer:
                    raise ValueError(f"the discovery document names issuer {discovery.get('issuer')!r}")
                self._jwks_uri = str(discovery["jwks_uri"])
            response = await client.get(self._jwks_uri)
            response.raise_for_status()
            found: dict[str, jwt.PyJWK] = {}
            for entry in response.json()["keys"]:
                if isinstance(entry, dict) and entry.get("kid") and entry.get("use", "sig") == "sig":
                    try:
                        found[str(entry["kid"])] = jwt.PyJWK(entry)
                    except jwt.PyJWTError:
                        continue  # a key of a kind this verifier does not use
            return found
