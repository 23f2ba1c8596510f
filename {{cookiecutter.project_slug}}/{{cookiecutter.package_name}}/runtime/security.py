"""Broker credentials, from the settings only: SASL (PLAIN, SCRAM) and TLS."""

import ssl

import faust
from faust.types.auth import CredentialsT

from .settings import RuntimeSettings


def broker_credentials(settings: RuntimeSettings) -> CredentialsT | None:
    """What Faust presents to the brokers, or ``None`` on a PLAINTEXT connection."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    if protocol == "SSL":
        assert context is not None
        return faust.SSLCredentials(context)
    assert settings.kafka_sasl_password is not None
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        mechanism=settings.kafka_sasl_mechanism,
        ssl_context=context,
    )
