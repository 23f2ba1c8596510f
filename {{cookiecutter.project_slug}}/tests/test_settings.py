import pytest

from {{ cookiecutter.package_name }}.settings import Settings


def test_the_environment_sets_the_runtimes_settings_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "kafka://kafka.example:9092")
    monkeypatch.setenv("TOPIC_PARTITIONS", "12")

    configured = Settings()

    assert configured.kafka_broker == "kafka://kafka.example:9092"
    assert configured.topic_partitions == 12
