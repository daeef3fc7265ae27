"""The clock and the source of randomness for ids, behind one object tests can replace."""

import secrets
from datetime import UTC, datetime

from ..domain.ids import Prefix, make_id

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_id(self, prefix: Prefix) -> str:
        return make_id(prefix, self.random_token(24))

    @staticmethod
    def random_token(length: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(length))
