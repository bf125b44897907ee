"""Who is asking: bearer JWTs carrying subject, role and organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
import msgspec

from shared.config import Settings
from shared.kernel.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    BUYER = "buyer"
    AGGREGATOR = "aggregator"
    MSME = "msme"
    INSPECTOR = "inspector"
    ADMIN = "admin"


class Principal(msgspec.Struct, frozen=True):
    """The authenticated caller."""

    sub: str
    role: Role
    org: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require(self, *roles: Role) -> None:
        """Refuse (403) unless the caller has one of ``roles``; admins pass every check."""
        if self.role not in roles and not self.is_admin:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this action needs one of the roles: {allowed}; you are {self.role.value}")


class TokenAuthority:
    """Verifies (and, in development, issues) Gotong's bearer tokens."""

    def __init__(self, *, secret: str | None, public_key: str | None = None, issuer: str = "gotong") -> None:
        if not secret and not public_key:
            raise ValueError("a JWT secret or public key is required")
        self._secret = secret
        self._public_key = public_key
        self._issuer = issuer
        self._algorithms = ["RS256", "ES256", "EdDSA"] if public_key else ["HS256"]

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenAuthority:
        return cls(secret=settings.jwt_secret, public_key=settings.jwt_public_key, issuer=settings.jwt_issuer)

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
        try:
            role = Role(str(claims.get("role")))
        except ValueError as error:
            raise Unauthenticated("the token names no known role") from error
        org = claims.get("org")
        if not isinstance(org, str) or not org:
            raise Unauthenticated("the token names no organisation")
        return Principal(sub=str(claims["sub"]), role=role, org=org)
