"""RS256 signature verification (RSASSA-PKCS1-v1_5 with SHA-256) with the standard library, for PyJWT.

Why not ``cryptography`` (PyJWT's ``[crypto]`` extra): its one Rust extension is
4.9 MB of the 8 MB the Lambda package may weigh, and the app only ever
*verifies* Cognito's RS256 signatures with public keys. Verification is
RFC 8017 section 8.2.2 exactly:

1. the signature is exactly ``k`` bytes (the modulus' length) and, as an
   integer ``s``, smaller than the modulus ``n``;
2. ``m = s ** e mod n`` (Python's ``pow``), written back as ``k`` bytes;
3. the expected encoding ``EM' = 00 01 FF..FF 00 || DigestInfo(SHA-256) || H(message)``
   is *built* and compared with ``m`` as a whole (``hmac.compare_digest``).

Step 3 never parses the padding: building and comparing the whole encoding is
what the RFC prescribes and what closes the signature forgeries that hit
lenient padding parsers (Bleichenbacher 2006, with small exponents). Keys are
public and come from the pool's JWKS; nothing here handles a secret, so there
is no timing channel to guard. Keys smaller than 2048 bits are refused.
Signing is not implemented: only Cognito signs (the tests sign with
``cryptography``, a dev-only dependency, and tests/test_rs256.py checks this
module against it on many keys and messages).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import Algorithm
from jwt.exceptions import InvalidKeyError

#: DER of DigestInfo{AlgorithmIdentifier{id-sha256, NULL}, OCTET STRING(32)} (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MIN_MODULUS_BITS = 2048


def b64url_uint(value: object) -> int:
    """A JWK's base64url (no padding) unsigned big-endian integer (RFC 7518 section 6.3.1), strictly."""
    if not isinstance(value, str) or not value or "=" in value:
        raise ValueError("not a base64url value")
    standard = value.replace("-", "+").replace("_", "/")
    try:
        raw = binascii.a2b_base64(standard + "=" * (-len(standard) % 4), strict_mode=True)
    except binascii.Error as error:
        raise ValueError(f"not a base64url value: {error}") from None
    return int.from_bytes(raw, "big")


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int

    def __post_init__(self) -> None:
        if self.n.bit_length() < MIN_MODULUS_BITS or self.n % 2 == 0:
            raise ValueError(f"RSA modulus must be odd and at least {MIN_MODULUS_BITS} bits")
        if self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            raise ValueError("RSA public exponent must be odd, >= 3 and < n")

    @property
    def size(self) -> int:
        """k: the modulus' length in bytes."""
        return (self.n.bit_length() + 7) // 8

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> RsaPublicKey:
        if jwk.get("kty") != "RSA":
            raise ValueError(f"not an RSA key: kty={jwk.get('kty')!r}")
        return cls(n=b64url_uint(jwk.get("n")), e=b64url_uint(jwk.get("e")))


def verify(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-V1_5-VERIFY with SHA-256 (RFC 8017 section 8.2.2)."""
    k = key.size
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t  # k >= 256 > len(t) + 11
    return hmac.compare_digest(encoded, expected)


class RS256(Algorithm):
    """PyJWT's Algorithm interface over :func:`verify` (verification only)."""

    def prepare_key(self, key: Any) -> RsaPublicKey:
        if isinstance(key, RsaPublicKey):
            return key
        if isinstance(key, Mapping):
            try:
                return RsaPublicKey.from_jwk(key)
            except ValueError as error:
                raise InvalidKeyError(str(error)) from error
        raise InvalidKeyError(f"expected an RSA public key (JWK), got {type(key).__name__}")

    def sign(self, msg: bytes, key: Any) -> bytes:
        raise NotImplementedError("verification only: Cognito signs the tokens")

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        return verify(self.prepare_key(key), msg, sig)

    @staticmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> Any:
        def b64(number: int) -> str:
            raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
            return binascii.b2a_base64(raw, newline=False).decode().replace("+", "-").replace("/", "_").rstrip("=")

        jwk = {"kty": "RSA", "n": b64(key_obj.n), "e": b64(key_obj.e)}
        return jwk if as_dict else json.dumps(jwk)

    @staticmethod
    def from_jwk(jwk: str | dict[str, Any]) -> RsaPublicKey:
        data = json.loads(jwk) if isinstance(jwk, str) else jwk
        try:
            return RsaPublicKey.from_jwk(data)
        except ValueError as error:
            raise InvalidKeyError(str(error)) from error
