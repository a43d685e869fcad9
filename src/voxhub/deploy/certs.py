"""A self-signed certificate for the machine's LAN names and addresses, so browsers give pages the microphone."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from voxhub.errors import ConfigError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def lan_names() -> list[str]:
    """This machine's host name, its fully qualified name and its `.local` (mDNS) name, plus localhost."""
    host = socket.gethostname()
    names = [host, socket.getfqdn(), f"{host.split('.')[0]}.local", "localhost"]
    return list(dict.fromkeys(name for name in names if name))


def lan_addresses() -> list[Address]:
    """The addresses other machines reach this one on (the default route's, and the host name's), plus loopback."""
    found: list[str] = ["127.0.0.1", "::1"]
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:  # connecting a UDP socket sends nothing; it only picks the outgoing address
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                found.append(udp.getsockname()[0])
        except OSError:
            continue
    with contextlib.suppress(OSError):
        found += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)]
    addresses = [ipaddress.ip_address(text.split("%")[0]) for text in dict.fromkeys(found)]
    return [address for address in dict.fromkeys(addresses) if not address.is_link_local]


def make_certificate(names: list[str], addresses: list[Address], *, days: int = 825) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM): P-256, valid `days`, for every name and address given."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "voxhub")])
    now = datetime.datetime.now(datetime.UTC)
    alternative = [x509.DNSName(name) for name in names] + [x509.IPAddress(ip) for ip in addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def write_certificate(directory: Path, certificate: bytes, key: bytes) -> tuple[Path, Path]:
    """Write `voxhub.crt` and `voxhub.key` (readable by its owner only); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "voxhub.crt", directory / "voxhub.key"
    key_path.touch(mode=0o600)
    key_path.chmod(0o600)
    key_path.write_bytes(key)
    cert_path.write_bytes(certificate)
    return cert_path, key_path


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    """Both files or neither, and they load as a pair: said before the engines take their seconds to load."""
    if certfile is None and keyfile is None:
        return
    if certfile is None or keyfile is None:
        raise ConfigError("ssl_certfile and ssl_keyfile go together: give both, or neither for plain http")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use certificate {certfile} with key {keyfile}: {exc}") from None
