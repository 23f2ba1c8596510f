import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.runtime.settings import RuntimeSettings


def test_defaults_work_against_the_local_compose_stack() -> None:
    # Validating a mapping reads no environment and no .env file: the defaults only.
    defaults = RuntimeSettings.model_validate({})

    assert defaults.kafka_broker == {{ cookiecutter.kafka_broker|quoted }}
    assert defaults.kafka_security_protocol == "PLAINTEXT"
    assert defaults.web_port == {{ cookiecutter.web_port }}


def test_a_heartbeat_slower_than_a_third_of_the_session_is_refused() -> None:
    with pytest.raises(ValidationError, match="at most a third of BROKER_SESSION_TIMEOUT"):
        RuntimeSettings.model_validate(
            {"broker_session_timeout": 10, "broker_heartbeat_interval": 4}
        )


def test_a_session_timeout_the_broker_would_refuse_is_refused() -> None:
    with pytest.raises(ValidationError, match="broker_session_timeout"):
        RuntimeSettings.model_validate(
            {"broker_session_timeout": 3, "broker_heartbeat_interval": 1}
        )
