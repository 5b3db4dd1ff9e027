"""Who calls the engine. The host turns a principal into the call's actor (resolving a person's user and an
API key's tenant, scopes and restrictions itself); the engine never sees a credential."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


class Principal:
    """Base of the principals below."""


@dataclass(frozen=True)
class System(Principal):
    """The platform itself: scripts, jobs, the command line."""


@dataclass(frozen=True)
class Operator(Principal):
    """A platform operator, authenticated by the embedding application."""

    operator_id: str


@dataclass(frozen=True)
class Person(Principal):
    """A human the embedding application's identity provider vouches for."""

    external_id: str
    email: str
    name: Optional[str] = None
    email_verified: bool = True


@dataclass(frozen=True)
class ApiKey(Principal):
    """A tenant API key, by its secret (the host looks it up by hash; its tenant is the key's)."""

    secret: str


@dataclass(frozen=True)
class Anonymous(Principal):
    """Nobody."""
