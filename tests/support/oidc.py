"""A real OpenID Connect issuer for tests: discovery and JWKS over HTTP on a free port, tokens signed with
RS256 or ES256 keys it can rotate (a new key published, the old one withdrawn)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar import Litestar, get

from shared.dev import free_port


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        codec = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        jwk: dict[str, Any] = json.loads(codec.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def new_key(kid: str, algorithm: str) -> SigningKey:
    if algorithm == "RS256":
        return SigningKey(kid, algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return SigningKey(kid, algorithm, ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    """The issuer's state: the keys it publishes, and how often its JWKS was fetched."""

    url: str
    keys: dict[str, SigningKey] = field(default_factory=dict)
    jwks_requests: int = 0

    def publish(self, kid: str, algorithm: str = "RS256") -> SigningKey:
        key = self.keys[kid] = new_key(kid, algorithm)
        return key

    def withdraw(self, kid: str) -> SigningKey:
        return self.keys.pop(kid)

    def token(self, key: SigningKey, audience: str = "gotong-api", lifetime: float = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "iat": now, "exp": now + int(lifetime), "sub": "dewi", **claims}
        return jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid})


@asynccontextmanager
async def running_issuer() -> AsyncIterator[Issuer]:
    port = free_port()
    issuer = Issuer(url=f"http://127.0.0.1:{port}")

    @get("/.well-known/openid-configuration", sync_to_thread=False)
    def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer.url,
            "jwks_uri": f"{issuer.url}/jwks",
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }

    @get("/jwks", sync_to_thread=False)
    def jwks() -> dict[str, Any]:
        issuer.jwks_requests += 1
        return {"keys": [key.public_jwk() for key in issuer.keys.values()]}

    app = Litestar([discovery, jwks], logging_config=None)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    # Its own thread and loop: the test client blocks the test's loop while the app handles a request, and
    # the app fetches the JWKS from here in the middle of one.
    thread = threading.Thread(target=server.run, name="oidc-issuer", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OIDC issuer did not start")
            await asyncio.sleep(0.01)
        yield issuer
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
