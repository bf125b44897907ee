"""Who is asking: bearer JWTs carrying subject, role and organisation, and API keys (``gk_<key id>_<secret>``).

Three kinds of credential reach a service, all as ``Authorization: Bearer …`` (a key also as ``X-API-Key``):

- Gotong's own tokens (HS256 with ``GOTONG_JWT_SECRET``, as ``gotong token`` and ``gotong dev`` issue them, or
  a configured public key), carrying ``sub``, ``role`` and ``org``;
- access tokens of an OpenID Connect provider (``GOTONG_OIDC_ISSUER``, see ``shared/oidc.py``): organisation
  and role from configured claims, or else from the subject's membership in the identity mirror;
- API keys, looked up in the service's identity mirror (``shared/identities.py``) on every request, compared
  by HMAC-SHA256 under ``GOTONG_API_KEY_PEPPER``; a key acts with its organisation's role, within its scopes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import jwt
import msgspec

from shared.config import Settings
from shared.kernel.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from shared.identities import IdentityMirror
    from shared.oidc import OidcVerifier

API_KEY_PREFIX = "gk_"
API_KEY_HEADER = "X-API-Key"
ORG_HEADER = "X-Gotong-Org"


class Role(StrEnum):
    BUYER = "buyer"
    AGGREGATOR = "aggregator"
    MSME = "msme"
    INSPECTOR = "inspector"
    ADMIN = "admin"
    NEWCOMER = "newcomer"
    """Someone signed in with OpenID Connect who belongs to no organisation yet: no token claims it, and the
    only route that lets it through accepts an invitation."""


MEMBER_ROLES = frozenset({Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR})
"""The roles a member of an organisation (or a key) can have; ``admin`` is Gotong's operators' alone."""
CLAIMABLE_ROLES = frozenset({*MEMBER_ROLES, Role.ADMIN})
"""The roles a token may name."""


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller."""

    sub: str
    role: Role
    org: str
    scopes: frozenset[str] | None = None
    """An API key's scopes; None for people."""
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_newcomer(self) -> bool:
        """Signed in, but a member of no organisation (``org`` is empty)."""
        return self.role is Role.NEWCOMER

    @property
    def actor(self) -> str:
        """Who did it, as events' metadata records it: ``key:<id>`` for a key, ``<role>:<subject>`` for a person."""
        return f"key:{self.key_id}" if self.key_id else f"{self.role.value}:{self.sub}"

    def require(self, *roles: Role) -> None:
        """Refuse (403) unless the caller has one of ``roles``; admins pass every check."""
        if self.role not in roles and not self.is_admin:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this action needs one of the roles: {allowed}; you are {self.role.value}")


class TokenAuthority:
    """Verifies (and, in development, issues) Gotong's bearer tokens."""

    def __init__(
        self,
        *,
        secret: str | None,
        public_key: str | None = None,
        issuer: str = "gotong",
        pepper: str | None = None,
        oidc: OidcVerifier | None = None,
    ) -> None:
        if not secret and not public_key and oidc is None:
            raise ValueError("a JWT secret or public key, or an OIDC issuer, is required")
        self._secret = secret
        self._public_key = public_key
        self._issuer = issuer
        self._algorithms = ["RS256", "ES256", "EdDSA"] if public_key else ["HS256"]
        self.pepper = pepper
        self.oidc = oidc

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenAuthority:
        from shared.oidc import OidcVerifier

        return cls(
            secret=settings.jwt_secret,
            public_key=settings.jwt_public_key,
            issuer=settings.jwt_issuer,
            pepper=settings.api_key_pepper,
            oidc=OidcVerifier.from_settings(settings),
        )

    async def authenticate(self, headers: Mapping[str, str], identities: IdentityMirror, now: datetime) -> Principal:
        """Who sent a request with these headers: an API key, an OIDC access token or a Gotong token."""
        authorization = headers.get("Authorization")
        presented = headers.get(API_KEY_HEADER)
        if presented is None and authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip().startswith(API_KEY_PREFIX):
                presented = token.strip()
        if presented is not None:
            return await self._key(presented.strip(), identities, now)
        if self.oidc is not None and authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and self.oidc.issued(token.strip()):
                claims = await self.oidc.verify(token.strip())
                return await self.oidc.principal(claims, identities, headers.get(ORG_HEADER))
        return self.verify(authorization)

    async def _key(self, presented: str, identities: IdentityMirror, now: datetime) -> Principal:
        parsed = parse_api_key(presented)
        if parsed is None:
            raise Unauthenticated(f"an API key looks like {API_KEY_PREFIX}<key id>_<secret>")
        if not self.pepper:
            raise Unauthenticated("API keys are not enabled here (no GOTONG_API_KEY_PEPPER)")
        key_id, secret = parsed
        stored = await identities.key(key_id)
        if stored is None or not hmac.compare_digest(stored.secret_hash, hash_secret(self.pepper, secret)):
            raise Unauthenticated("unknown API key")
        if stored.revoked_at is not None:
            raise Unauthenticated("this API key was revoked")
        if stored.expires_at is not None and stored.expires_at <= now:
            raise Unauthenticated("this API key has expired")
        await identities.used(key_id, now)
        return Principal(
            sub=f"key:{key_id}", role=Role(stored.role), org=stored.org, scopes=stored.scopes, key_id=key_id
        )

    def issue(self, *, sub: str, role: Role, org: str, lifetime: timedelta = timedelta(hours=12)) -> str:
        if not self._secret:
            raise ValueError("tokens can only be issued with a shared secret")
        now = datetime.now(UTC)
        claims = {"sub": sub, "role": role.value, "org": org, "iss": self._issuer, "iat": now, "exp": now + lifetime}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("send a bearer token in the Authorization header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        key = self._public_key or self._secret
        assert key is not None
        try:
            claims = jwt.decode(
                token.strip(),
                key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from error
        role = claimed_role(claims.get("role"))
        if role is None:
            raise Unauthenticated("the token names no known role")
        org = claims.get("org")
        if not isinstance(org, str) or not org:
            raise Unauthenticated("the token names no organisation")
        return Principal(sub=str(claims["sub"]), role=role, org=org)


def claimed_role(claim: object) -> Role | None:
    """The role a token's claim names, if it is one a token may name."""
    return next((r for r in CLAIMABLE_ROLES if r.value == claim), None)


def parse_api_key(presented: str) -> tuple[str, str] | None:
    """``gk_<key id>_<secret>`` → (key id, secret); None if it is not shaped like a key."""
    if not presented.startswith(API_KEY_PREFIX) or len(presented) > 200:
        return None
    key_id, _, secret = presented.removeprefix(API_KEY_PREFIX).partition("_")
    if not key_id.isalnum() or not key_id.isascii() or len(secret) < 16:
        return None
    return key_id, secret


def hash_secret(pepper: str, secret: str) -> str:
    """What is stored of a key's secret: HMAC-SHA256 under the server's pepper, hex."""
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def new_api_key() -> tuple[str, str]:
    """A fresh key id and secret; the key as shown once is ``gk_<key id>_<secret>``."""
    return secrets.token_hex(8), secrets.token_urlsafe(32)
