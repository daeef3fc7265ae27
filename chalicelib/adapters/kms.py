"""KMS: the only code that calls it. The vault asks it for data keys and to unwrap them.

Each data key is bound to an encryption context (the vault passes the customer's token and
merchant id): KMS refuses to unwrap it under any other context, so a wrapped key copied to
another customer's record is useless. `ClientError` is translated here into our errors.
"""

from dataclasses import dataclass

from botocore.exceptions import ClientError

from ..errors import ServiceUnavailable, ShoppableError
from .aws import unavailable_when_unreachable
from .sdk_logs import sensitive_sdk_call

_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "LimitExceededException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "ServiceUnavailable",
    }
)


class WrappedKeyRejected(ShoppableError):
    """KMS would not unwrap a data key: altered, or presented under the wrong context."""

    status = 500
    type = "api_error"
    code = "key_integrity_failed"


class KeyServiceFailed(ShoppableError):
    """The vault key is missing, disabled or not ours to use: an operator has to act."""

    status = 500
    type = "api_error"
    code = "key_service_failed"


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes  # 32 bytes; lives in memory only
    wrapped: bytes  # encrypted under the vault key; safe to store


class KmsKeys:
    """Data keys under one KMS key (id, ARN or `alias/…`)."""

    def __init__(self, client, key_id: str):
        self.client = client
        self.key_id = key_id

    def generate_data_key(self, context: dict[str, str]) -> DataKey:
        try:
            with sensitive_sdk_call(), unavailable_when_unreachable("The key service"):
                # the response holds the plaintext key
                response = self.client.generate_data_key(
                    KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context
                )
        except ClientError as error:
            raise _translated(error) from error
        return DataKey(plaintext=response["Plaintext"], wrapped=response["CiphertextBlob"])

    def decrypt_data_key(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        try:
            with sensitive_sdk_call(), unavailable_when_unreachable("The key service"):
                response = self.client.decrypt(
                    CiphertextBlob=wrapped, EncryptionContext=context, KeyId=self.key_id
                )
        except ClientError as error:
            raise _translated(error) from error
        return response["Plaintext"]


def _translated(error: ClientError) -> ShoppableError:
    code = error.response.get("Error", {}).get("Code", "")
    if code in _RETRYABLE:
        return ServiceUnavailable("The key service is busy; retry the request.")
    if code in ("InvalidCiphertextException", "IncorrectKeyException"):
        return WrappedKeyRejected("A stored data key failed its integrity check.")
    return KeyServiceFailed(f"The key service refused the request ({code or 'unknown'}).")


def ensure_key(client, alias: str, description: str) -> str:
    """Create a symmetric key under `alias` unless the alias exists; returns the key id.

    For `make run` and the tests; `infra/` declares the deployed key and its policy.
    """
    try:
        return client.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
    key_id = client.create_key(Description=description, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"][
        "KeyId"
    ]
    client.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


class SealedSecrets:
    """Small secrets (webhook signing secrets) encrypted directly under one KMS key, bound to
    an encryption context (the merchant and the endpoint), so that the table alone discloses
    nothing and a ciphertext copied to another endpoint does not open. Opened secrets are kept
    in memory for `cache_seconds`, so a busy endpoint costs one KMS call per few minutes."""

    def __init__(self, client, key_id: str, cache_seconds: float = 300.0):
        self.client = client
        self.key_id = key_id
        self.cache_seconds = cache_seconds
        self._opened: dict[tuple[str, str], tuple[float, str]] = {}

    def seal(self, secret: str, context: dict[str, str]) -> str:
        import base64

        try:
            with sensitive_sdk_call(), unavailable_when_unreachable("The key service"):
                response = self.client.encrypt(
                    KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=context
                )
        except ClientError as error:
            raise _translated(error) from error
        return base64.b64encode(response["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: dict[str, str]) -> str:
        import base64
        import time

        cache_key = (sealed, repr(sorted(context.items())))
        cached = self._opened.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            with sensitive_sdk_call(), unavailable_when_unreachable("The key service"):
                response = self.client.decrypt(
                    CiphertextBlob=base64.b64decode(sealed),
                    EncryptionContext=context,
                    KeyId=self.key_id,
                )
        except ClientError as error:
            raise _translated(error) from error
        secret = response["Plaintext"].decode()
        self._opened[cache_key] = (time.monotonic() + self.cache_seconds, secret)
        return secret
