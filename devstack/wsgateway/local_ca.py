"""The local CA and the management endpoint's TLS certificate.

Chalice always builds the management endpoint as ``https://{domain}/{stage}``,
and the app must not change for local use, so the gateway serves it over TLS
with a certificate from a CA kept under ``state_dir``. Every process that
sends points ``AWS_CA_BUNDLE`` at the CA's certificate.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..files import private_temp_file, write_atomically
from .connections import utcnow

_CA_VALIDITY = dt.timedelta(days=5 * 365)
_SERVER_CERT_VALIDITY = dt.timedelta(days=365)

#: The only names the local CA may vouch for: this machine and private
#: networks. Its key is a file on disk, so even a developer who adds the CA
#: to a system trust store must not let it impersonate a real host.
_CA_PERMITTED_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                          "192.168.0.0/16", "fc00::/7")

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\r?\n?", re.S)


def server_tls_context(cert_dir: Path, ca_bundle: Path, host: str) -> ssl.SSLContext:
    """Issue this run's server certificate from the local CA and load it."""
    ca_cert, ca_key = _load_or_create_ca(cert_dir, ca_bundle)
    server_pem = _issue_server_certificate(ca_cert, ca_key, subject_alt_names(host))
    server_file = cert_dir / "server.pem"
    write_atomically(server_file, server_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(server_file)
    return context


def subject_alt_names(host: str) -> list:
    """SANs for the server certificate: ``localhost``, ``127.0.0.1``, and the
    listening address when it is another loopback or private IP."""
    names: list = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host in ("localhost", "127.0.0.1"):
        return names
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not any(
        address in ipaddress.ip_network(net) for net in _CA_PERMITTED_NETWORKS
    ):
        raise ValueError(
            f"host {host!r}: the gateway listens on loopback, a private IP or "
            "all addresses, because its CA may only vouch for those"
        )
    names.append(x509.IPAddress(address))
    return names


def _name_constraints() -> x509.NameConstraints:
    permitted: list = [x509.DNSName("localhost")]
    permitted += [x509.IPAddress(ipaddress.ip_network(n)) for n in _CA_PERMITTED_NETWORKS]
    return x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None)


def _load_or_create_ca(directory: Path, bundle: Path):
    """Return the local CA's certificate and key, creating them if needed.

    The CA is kept (in ``ca-key-and-cert.pem``, one file so the key and the
    certificate always match) and reused while it has more than 30 days of
    validity left. Gateways that start at the same time then agree on one CA:
    the first creator's file is linked into place, and a loser reads the
    winner's file.
    """
    combined = directory / "ca-key-and-cert.pem"
    directory.mkdir(parents=True, exist_ok=True)
    loaded = _read_ca(combined)
    if loaded is None or loaded[0].not_valid_after_utc - utcnow() < dt.timedelta(days=30):
        pem = _new_ca_pem()
        if loaded is None:
            tmp = private_temp_file(directory, "ca", pem)
            try:
                combined.hardlink_to(tmp)
            except FileExistsError:
                pass  # another gateway won the race; use its CA
            finally:
                tmp.unlink()
        else:
            write_atomically(combined, pem)  # expiring: replace it
        loaded = _read_ca(combined)
        if loaded is None:
            raise RuntimeError(f"could not read the local CA at {combined}")
    ca_cert, ca_key = loaded
    certificate_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    if not bundle.exists() or bundle.read_bytes() != certificate_pem:
        write_atomically(bundle, certificate_pem)
        bundle.chmod(0o644)
    return ca_cert, ca_key


def _read_ca(path: Path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    blocks = {m.group(1).decode(): m.group(0) for m in _PEM_BLOCK.finditer(data)}
    if "CERTIFICATE" not in blocks or "PRIVATE KEY" not in blocks:
        return None
    certificate = x509.load_pem_x509_certificate(blocks["CERTIFICATE"])
    key = serialization.load_pem_private_key(blocks["PRIVATE KEY"], password=None)
    return certificate, key


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Signing only: certificates and CRLs for the CA, TLS handshakes for the server."""
    return x509.KeyUsage(
        digital_signature=True, key_cert_sign=ca, crl_sign=ca,
        content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False,
        encipher_only=False, decipher_only=False,
    )


def _private_key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_ca_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "account-opening devstack"),
        x509.NameAttribute(NameOID.COMMON_NAME, "devstack local CA"),
    ])
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_name_constraints(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM) + _private_key_pem(key)


def _issue_server_certificate(ca_cert: x509.Certificate, ca_key: Any, names: list) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + _SERVER_CERT_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _private_key_pem(key) + certificate.public_bytes(serialization.Encoding.PEM)
