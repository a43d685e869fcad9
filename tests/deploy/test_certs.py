"""`voxhub cert` and the TLS settings: a certificate for this machine's names and addresses."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from voxhub.cli import app
from voxhub.deploy.certs import check_tls, lan_addresses, make_certificate, write_certificate
from voxhub.errors import ConfigError

runner = CliRunner()


def test_cert_covers_the_machines_addresses_and_extra_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cert", "--dir", str(tmp_path), "--name", "voxhub.home.arpa"])
    assert result.exit_code == 0, result.output
    certificate = x509.load_pem_x509_certificate((tmp_path / "voxhub.crt").read_bytes())
    covered = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "voxhub.home.arpa" in covered.get_values_for_type(x509.DNSName)
    assert set(lan_addresses()) <= set(covered.get_values_for_type(x509.IPAddress))
    assert (tmp_path / "voxhub.key").stat().st_mode & 0o077 == 0


def test_cert_keeps_an_existing_certificate_unless_forced(tmp_path: Path) -> None:
    assert runner.invoke(app, ["cert", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(app, ["cert", "--dir", str(tmp_path)])
    assert again.exit_code == 1
    assert "--force" in again.stderr


def test_a_certificate_and_its_key_are_accepted_together(tmp_path: Path) -> None:
    cert, key = write_certificate(tmp_path, *make_certificate(["a"], [ipaddress.ip_address("127.0.0.1")]))
    check_tls(cert, key)


def test_a_certificate_without_its_key_is_a_configuration_error(tmp_path: Path) -> None:
    cert, _ = write_certificate(tmp_path, *make_certificate(["a"], []))
    with pytest.raises(ConfigError, match="give both"):
        check_tls(cert, None)


def test_a_key_of_another_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    cert, _ = write_certificate(tmp_path / "one", *make_certificate(["a"], []))
    _, other_key = write_certificate(tmp_path / "two", *make_certificate(["a"], []))
    with pytest.raises(ConfigError, match="cannot use certificate"):
        check_tls(cert, other_key)
