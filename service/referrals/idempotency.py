"""Retry keys for sending a referral. A client that lost the answer to its request (a
network cut, a server killed between commit and response) sends the same request again
with the same key and gets the first answer back, never a second referral: an
`Idempotency-Key` header on the API, a one-time hidden key on the send form.

Only hashes of the key are stored. The first answer carries personal links, which are
never stored in clear: it is sealed (Fernet, from the well-kept `cryptography` package)
with a key derived from the client's key, so the database alone cannot open it. Keys
are remembered for a day.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from directory.errors import Conflict, Invalid
from service.referrals.tables import IdempotencyKey

LIFETIME = timedelta(hours=24)
# Visible ASCII, long enough to be unguessable: a UUID fits.
_KEY = re.compile(r"[!-~]{16,200}")
KEY_PROBLEM = (
    "La clé Idempotency-Key doit compter de 16 à 200 caractères visibles, sans espace "
    "ni accent (un UUID, par exemple)."
)
KEY_REUSED = (
    "Cette clé Idempotency-Key a déjà servi pour une orientation différente : pour "
    "envoyer une nouvelle orientation, utilisez une nouvelle clé."
)


@dataclass(frozen=True)
class Remembered:
    """The first answer to a request, as it was given."""

    referral_id: UUID
    partner_token: str
    young_person_token: str | None


@dataclass(frozen=True)
class Once:
    """One client key for one request, scoped to a user and to where it was sent."""

    key_hash: str
    request_hash: str
    seal: Fernet = field(repr=False, compare=False)

    @classmethod
    def of(cls, user_id: UUID, scope: str, key: str, request: bytes) -> Once:
        if not _KEY.fullmatch(key):
            raise Invalid({"idempotency_key": KEY_PROBLEM})
        secret = key.encode()
        lookup = hashlib.sha256(b"lookup\0" + scope.encode() + b"\0" + user_id.bytes + secret)
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=user_id.bytes,
            info=b"maillage idempotency seal " + scope.encode(),
        ).derive(secret)
        return cls(
            key_hash=lookup.hexdigest(),
            request_hash=hashlib.sha256(request).hexdigest(),
            seal=Fernet(base64.urlsafe_b64encode(derived)),
        )

    async def recall(self, now: datetime) -> Remembered | None:
        """The first answer given to this key, if any; Conflict if the key was used for
        another request."""
        row = (
            await IdempotencyKey.select()
            .where(
                (IdempotencyKey.key_hash == self.key_hash)
                & (IdempotencyKey.created_at >= now - LIFETIME)
            )
            .first()
        )
        if row is None or row["referral"] is None:
            return None
        if row["request_hash"] != self.request_hash:
            raise Conflict(KEY_REUSED)
        try:
            answer = json.loads(self.seal.decrypt(row["sealed"].encode()))
        except InvalidToken:  # cannot happen with the same key; never replay garbage
            return None
        return Remembered(row["referral"], answer["partner"], answer["young_person"])

    async def remember(
        self,
        referral_id: UUID,
        partner_token: str,
        young_person_token: str | None,
        now: datetime,
    ) -> None:
        """Call inside the transaction that creates the referral: of two requests with the
        same key, the second fails on the unique key hash and writes nothing."""
        await IdempotencyKey.delete().where(IdempotencyKey.created_at < now - LIFETIME)
        answer = json.dumps({"partner": partner_token, "young_person": young_person_token})
        await IdempotencyKey(
            key_hash=self.key_hash,
            request_hash=self.request_hash,
            referral=referral_id,
            sealed=self.seal.encrypt(answer.encode()).decode(),
            created_at=now,
        ).save()
