from {{ cookiecutter.package_name }}.app import app
from {{ cookiecutter.package_name }}.table_routing import SourceKeyRouter


def test_table_lookups_hash_keys_as_producers_send_them() -> None:
    table = next(iter(app.tables.values()))

    assert isinstance(app.router, SourceKeyRouter)
    # Producers key events by the raw string; the changelog would store it as JSON.
    assert SourceKeyRouter._get_serialized_key(table, "home") == b"home"
    assert table.changelog_topic.prepare_key("home", None)[0] == b'"home"'
