"""The standard-library RS256 verifier (chalicelib/adapters/rs256.py) agrees with cryptography's,
refuses every altered token or signature, and is not fooled by a lenient-parser forgery."""
from __future__ import annotations

import hashlib

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.cognito_tokens import _decoder
from chalicelib.adapters.rs256 import RS256, SHA256_DIGEST_INFO, RsaPublicKey, b64url_uint, verify

KEYS = [rsa.generate_private_key(public_exponent=e, key_size=bits) for e, bits in
        ((65537, 2048), (65537, 3072), (3, 2048), (65537, 4096))]


def public(key) -> RsaPublicKey:
    numbers = key.public_key().public_numbers()
    return RsaPublicKey(n=numbers.n, e=numbers.e)


def sign(key, message: bytes) -> bytes:
    return key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def cryptography_verifies(key, message: bytes, signature: bytes) -> bool:
    try:
        key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except Exception:
        return False


def raw_rsa(key, encoded: bytes) -> bytes:
    """Textbook RSA with the private key on a chosen encoding: signatures no honest signer makes."""
    numbers = key.private_numbers()
    k = (numbers.public_numbers.n.bit_length() + 7) // 8
    return pow(int.from_bytes(encoded, "big"), numbers.d, numbers.public_numbers.n).to_bytes(k, "big")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(KEYS) - 1), message=st.binary(max_size=300), flip=st.integers(0, 10_000))
def test_agrees_with_cryptography_on_good_and_altered_signatures(index, message, flip):
    key = KEYS[index]
    signature = sign(key, message)
    assert verify(public(key), message, signature)
    altered = bytearray(signature)
    altered[flip % len(altered)] ^= 1 << (flip % 8)
    assert verify(public(key), message, bytes(altered)) is cryptography_verifies(key, message, bytes(altered)) is False
    assert not verify(public(key), message + b"x", signature)
    other = KEYS[(index + 1) % len(KEYS)]
    assert not verify(public(other), message, signature)


def test_wrong_length_or_out_of_range_signatures_are_refused():
    key = KEYS[0]
    signature = sign(key, b"m")
    assert not verify(public(key), b"m", b"\x00" + signature)
    assert not verify(public(key), b"m", signature[1:])
    n = public(key).n
    assert not verify(public(key), b"m", (int.from_bytes(signature, "big") + n).to_bytes(len(signature), "big")
                      if int.from_bytes(signature, "big") + n < 256 ** len(signature) else n.to_bytes(256, "big"))


@pytest.mark.parametrize("encoding", [
    "garbage after the digest",   # Bleichenbacher 2006: a parser that stops reading after the hash
    "short padding",
    "no 0xff padding at all",
    "digest without DigestInfo",
    "another hash's DigestInfo",
])
def test_encodings_a_lenient_parser_would_accept_are_refused(encoding):
    key = KEYS[2]  # e = 3: where such forgeries were practical
    k, message = 256, b"payload"
    digest = hashlib.sha256(message).digest()
    t = SHA256_DIGEST_INFO + digest
    encodings = {
        "garbage after the digest": b"\x00\x01" + b"\xff" * 8 + b"\x00" + t + b"\xab" * (k - 11 - len(t)),
        "short padding": b"\x00\x01" + b"\xff" * 8 + b"\x00" + t + b"\x00" * (k - 11 - len(t)),
        "no 0xff padding at all": b"\x00\x01\x00" + b"\x00" * (k - 3 - len(t)) + t,
        "digest without DigestInfo": b"\x00\x01" + b"\xff" * (k - 3 - len(digest)) + b"\x00" + digest,
        "another hash's DigestInfo": b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00"
        + bytes.fromhex("3031300d060960864801650304020205000420") + digest,
    }
    forged = raw_rsa(key, encodings[encoding])
    assert not verify(public(key), message, forged)
    assert not cryptography_verifies(key, message, forged)
    honest = raw_rsa(key, b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t)
    assert verify(public(key), message, honest)  # the same construction, correctly encoded, verifies


def test_weak_or_malformed_keys_are_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()
    with pytest.raises(ValueError):
        RsaPublicKey(n=small.n, e=small.e)
    good = KEYS[0].public_key().public_numbers()
    for e in (1, 2, 65536, good.n + 2):
        with pytest.raises(ValueError):
            RsaPublicKey(n=good.n, e=e)
    with pytest.raises(ValueError):
        RsaPublicKey(n=good.n + 1, e=65537)
    with pytest.raises(ValueError):
        RsaPublicKey.from_jwk({"kty": "EC", "n": "AQAB", "e": "AQAB"})
    for bad in ("", "AQ==", "A$B", 7, None):
        with pytest.raises(ValueError):
            b64url_uint(bad)


def test_jwk_round_trip_matches_pyjwt_with_cryptography():
    for key in KEYS:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        ours = RS256.from_jwk(jwk)
        assert ours == public(key)
        assert RS256.to_jwk(ours, as_dict=True) == {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def test_the_decoder_knows_rs256_only_and_it_is_ours():
    key = KEYS[0]
    token = jwt.encode({"sub": "s"}, key, algorithm="RS256")
    assert _decoder.decode(token, public(key), algorithms=["RS256"]) == {"sub": "s"}
    assert set(_decoder._jws._algorithms) == {"RS256"}
    assert isinstance(_decoder._jws._algorithms["RS256"], RS256)
    for alg in ("HS256", "none"):
        forged = jwt.encode({"sub": "s"}, "s" * 32 if alg == "HS256" else None, algorithm=alg)
        with pytest.raises(jwt.InvalidAlgorithmError):
            _decoder.decode(forged, public(key), algorithms=["RS256"])
    with pytest.raises(NotImplementedError):
        RS256().sign(b"m", public(key))
