import ssl

import pytest
from faust.types.auth import AuthProtocol, SASLMechanism
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.runtime.security import broker_credentials
from {{ cookiecutter.package_name }}.runtime.settings import RuntimeSettings


def settings(**values: str) -> RuntimeSettings:
    # Only what the test gives: validating a mapping reads no environment and no .env file.
    return RuntimeSettings.model_validate(values)


def test_plaintext_needs_no_credentials() -> None:
    assert broker_credentials(settings()) is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_credentials_come_from_the_settings(mechanism: str) -> None:
    credentials = broker_credentials(
        settings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism=mechanism,
            kafka_sasl_username="alice",
            kafka_sasl_password="s3cret",
        )
    )

    assert credentials is not None
    assert credentials.protocol == AuthProtocol.SASL_PLAINTEXT
    assert vars(credentials) == {
        "username": "alice",
        "password": "s3cret",
        "ssl_context": None,
        "mechanism": SASLMechanism(mechanism),
    }


def test_sasl_over_tls_verifies_the_brokers() -> None:
    credentials = broker_credentials(
        settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_username="alice",
            kafka_sasl_password="s3cret",
        )
    )

    assert credentials is not None
    assert credentials.protocol == AuthProtocol.SASL_SSL
    context = vars(credentials)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_the_password_never_shows_in_the_settings() -> None:
    configured = settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="alice",
        kafka_sasl_password="s3cret",
    )

    assert "s3cret" not in repr(configured)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PA"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "client.pem"}, "go together"),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
    ],
)
def test_incomplete_security_settings_are_refused_with_a_clear_error(
    values: dict[str, str], error: str
) -> None:
    with pytest.raises(ValidationError, match=error):
        settings(**values)
