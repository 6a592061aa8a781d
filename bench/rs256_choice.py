"""The RS256 question, measured (issue 21): the standard-library verifier vs ``cryptography``.

    python -m bench.rs256_choice [--runs 15]

Prints, on this machine: (1) the cold cost of verifying one Cognito-shaped RS256 token in a fresh
interpreter (import + key + verify: what a token-verifying cold start pays), median of the runs, for
``chalicelib/adapters/rs256.py`` and for PyJWT's ``cryptography`` backend; (2) the warm cost of one
verification; (3) what ``cryptography`` adds to the zipped package (its files and cffi's backend,
deflate level 9 as the package is built). The decision and its reasons: docs/deployment.md, "RS256".
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

COLD = r"""
import json, sys, time
started = time.perf_counter()
token, jwk, backend = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
import jwt
if backend == "ours":
    from chalicelib.adapters.rs256 import RS256, RsaPublicKey
    algorithm = RS256()
    header, payload, signature = token.split(".")
    ok = algorithm.verify(f"{header}.{payload}".encode(), RsaPublicKey.from_jwk(jwk),
                          jwt.utils.base64url_decode(signature))
else:
    from jwt.algorithms import RSAAlgorithm
    key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    ok = bool(jwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False}))
assert ok
print((time.perf_counter() - started) * 1000)
"""


def token_and_jwk() -> tuple[str, dict]:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    token = jwt.encode({"sub": "x", "token_use": "id", "iss": "https://cognito-idp.example/pool"}, private,
                       algorithm="RS256", headers={"kid": "k"})
    return token, jwk


def cold(backend: str, token: str, jwk: dict, runs: int) -> float:
    root = Path(__file__).resolve().parents[1]
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", COLD, token, json.dumps(jwk), backend], cwd=root,
                              capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip()))
    return statistics.median(times)


def warm(token: str, jwk: dict, runs: int = 2000) -> tuple[float, float]:
    import jwt
    from jwt.algorithms import RSAAlgorithm

    from chalicelib.adapters.rs256 import RS256, RsaPublicKey

    header, payload, signature = token.split(".")
    message, sig = f"{header}.{payload}".encode(), jwt.utils.base64url_decode(signature)
    ours, key = RS256(), RsaPublicKey.from_jwk(jwk)
    theirs, their_key = RSAAlgorithm(RSAAlgorithm.SHA256), RSAAlgorithm.from_jwk(json.dumps(jwk))
    started = time.perf_counter()
    for _ in range(runs):
        ours.verify(message, key, sig)
    mid = time.perf_counter()
    for _ in range(runs):
        theirs.verify(message, their_key, sig)
    end = time.perf_counter()
    return (mid - started) / runs * 1e6, (end - mid) / runs * 1e6


def zipped_size_of(*roots: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for root in roots:
            for path in ([root] if root.is_file() else sorted(root.rglob("*"))):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(root.parent))
    return len(buffer.getvalue())


SMOKE_ARGS = ['--runs', '1']


def main(argv: list[str] | None = None) -> None:
    import cryptography

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    token, jwk = token_and_jwk()
    ours, theirs = cold("ours", token, jwk, args.runs), cold("cryptography", token, jwk, args.runs)
    warm_ours, warm_theirs = warm(token, jwk)
    site = Path(cryptography.__file__).parents[1]
    backend = next(site.glob("_cffi_backend*.so"), None)
    size = zipped_size_of(site / "cryptography", *([backend] if backend else []))
    print(f"cold verify (fresh interpreter, median of {args.runs}): rs256.py {ours:.1f} ms, "
          f"cryptography {theirs:.1f} ms ({theirs - ours:+.1f} ms)")
    print(f"warm verify: rs256.py {warm_ours:.0f} us, cryptography {warm_theirs:.0f} us")
    print(f"cryptography in the package: +{size / 1e6:.1f} MB zipped (cryptography {cryptography.__version__}"
          f"{' + _cffi_backend' if backend else ''})")


if __name__ == "__main__":
    main()
