{%- set avro = cookiecutter.message_format == "avro" -%}
"""The service's topics as an AsyncAPI 3.0 document, made from its code when asked for.

Nobody writes it: it follows the topics the sub-apps declare with ``app.topic()`` and
the agents that read and write them, so a sub-app added later is in it from its first
start. It has:

- a channel for each topic declared with a record type or used by an agent, with the
  partitions and replicas the declaration gives;
- its messages: one per record type, with the record's schema ({{ "Avro, as the schema registry gets it" if avro else "JSON Schema of its fields" }})
  and its key (the topic's ``key_type``; a topic without one has records without a key);
- operations: each agent ``receive``s from its topic and ``send``s to those of its
  ``sink=``. A send elsewhere in the code (a view, a timer, a command) adds no
  operation, only its topic's channel;
- for each topic an agent reads, its dead-letter topic: the original key and value,
  with the headers of ``dead_letters.HEADERS``.

``GET /asyncapi.json`` serves it; ``<package> asyncapi --output asyncapi.yaml`` writes it.
"""

# ServiceApp, in annotations only: faust_app.py imports this module.
from __future__ import annotations

import functools
import importlib.metadata
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, cast

import click
import yaml
{%- if avro %}
from dataclasses_avroschema.faust import AvroRecord
{%- endif %}
from faust import web
from faust.cli import AppCommand, option
from faust.tables.manager import TableManager
from faust.types import AppT, ModelT, TopicT

from .dead_letters import HEADERS, Reason, dead_letter_topic_name
from .keys import KeyedSink
from .records import json_schema

if TYPE_CHECKING:
    from .faust_app import ServiceApp

KAFKA_BINDING = {"bindingVersion": "0.5.0"}
SCHEMAS = "#/components/schemas/"
DEAD_LETTER = "#/components/messages/DeadLetter"


@dataclass
class Channel:
    """A topic, as the service's declarations of it describe it."""

    address: str
    key_type: Any = None
    value_types: list[Any] = field(default_factory=list)
    partitions: int | None = None
    replicas: int | None = None
    # Where the key comes from, where the service's code says so.
    key_description: str | None = None


def asyncapi_document(app: ServiceApp) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the topics ``app`` declared and its agents use."""
    document = _Document(app)
    for channel in _channels(app).values():
        document.add_channel(channel)
    for agent in app.agents.values():
        name, sources = _short_name(app, agent.name), _addresses(agent.channel)
        for address in sources:
            operation = name if len(sources) == 1 else f"{name}.{address}"
            document.add_operation(operation, "receive", address, _first_line(agent.help))
        for sink in agent.info()["sink"]:
            keyed = isinstance(sink, KeyedSink)
            how = "under the key of the event it came from" if keyed else "without a key"
            for address in _addresses(_sink_topic(sink)):
                summary = f"What {name} yields, {how}."
                document.add_operation(f"{name}.to.{address}", "send", address, summary)
    read = {address for agent in app.agents.values() for address in _addresses(agent.channel)}
    for address in sorted(read):
        letters = dead_letter_topic_name(address)
        document.add_dead_letter_channel(letters)
        summary = f"The messages of {address} that the service could not process."
        document.add_operation(f"{address}.dead-letters", "send", letters, summary)
    return document.asdict()


def _channels(app: ServiceApp) -> dict[str, Channel]:
    """The topics to document, by name: declared with a record type, or used by an agent."""
    changelogs = app.tables.changelog_topics if isinstance(app.tables, TableManager) else set()
    used = [
        _sink_topic(channel)
        for agent in app.agents.values()
        for channel in (agent.channel, *agent.info()["sink"])
    ]
    channels: dict[str, Channel] = {}
    for topic in [*app.declared_topics.values(), *used]:
        if not isinstance(topic, TopicT) or not (_is_record(topic.value_type) or topic in used):
            continue
        for address in _addresses(topic):
            if address in changelogs:
                continue
            channel = channels.setdefault(address, Channel(address))
            channel.key_type = channel.key_type or topic.key_type
            channel.partitions = channel.partitions or topic.partitions
            channel.replicas = channel.replicas or topic.replicas
            if topic.value_type not in channel.value_types:
                channel.value_types.append(topic.value_type)
    for agent in app.agents.values():
        came_from = f"The key of the {', '.join(_addresses(agent.channel))} record it came from."
        for sink in agent.info()["sink"]:
            if isinstance(sink, KeyedSink):
                for address in _addresses(sink.topic):
                    channels[address].key_description = came_from
    return dict(sorted(channels.items()))


class _Document:
    """An AsyncAPI document, put together channel by channel and operation by operation."""

    def __init__(self, app: AppT) -> None:
        self.app = app
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}

    def add_channel(self, channel: Channel) -> None:
        # What the declarations give, and no more: a topic declared without them has the
        # partitions and replicas of whoever creates it.
        topic = {"partitions": channel.partitions, "replicas": channel.replicas}
        declared = {name: value for name, value in topic.items() if value}
        self.channels[channel.address] = {
            "address": channel.address,
            "messages": {
                _message_name(value_type): self._message(channel, value_type)
                for value_type in channel.value_types
            },
            "bindings": {"kafka": {**declared, **KAFKA_BINDING}},
        }

    def add_dead_letter_channel(self, address: str) -> None:
        if not self.messages:
            self.messages["DeadLetter"] = _dead_letter_message()
        self.channels[address] = {
            "address": address,
            "messages": {"DeadLetter": {"$ref": DEAD_LETTER}},
        }

    def add_operation(self, name: str, action: str, address: str, summary: str) -> None:
        channel = f"#/channels/{address}"
        self.operations[name] = {
            "action": action,
            "summary": summary,
            "channel": {"$ref": channel},
            "messages": [
                {"$ref": f"{channel}/messages/{message}"}
                for message in self.channels[address]["messages"]
            ],
        }

    def asdict(self) -> dict[str, Any]:
        return {
            "asyncapi": "3.0.0",
            "info": _info(self.app.conf.origin or self.app.conf.id),
            "defaultContentType": "application/json",
            "channels": dict(sorted(self.channels.items())),
            "operations": dict(sorted(self.operations.items())),
            "components": {
                "schemas": dict(sorted(self.schemas.items())),
                "messages": self.messages,
            },
        }

    def _message(self, channel: Channel, value_type: Any) -> dict[str, Any]:
        key = _key_schema(channel.key_type)
        if channel.key_description:
            key["description"] = channel.key_description
        binding: dict[str, Any] = {"key": key, **KAFKA_BINDING}
        message: dict[str, Any] = {"name": _message_name(value_type)}
        if _is_record(value_type):
            if value_type.__doc__:
                message["summary"] = _first_line(value_type.__doc__)
            schema = self._record_schema(value_type)
{%- if avro %}
            if issubclass(value_type, AvroRecord):
                # The Confluent wire format: a zero byte, the id of the schema in the
                # registry (4 bytes, big-endian), registered under <topic>-value, then
                # the Avro body.
                message["contentType"] = "application/octet-stream"
                binding |= {
                    "schemaIdLocation": "payload",
                    "schemaIdPayloadEncoding": "confluent",
                    "schemaLookupStrategy": "TopicIdStrategy",
                }
{%- endif %}
            message["payload"] = {"$ref": schema}
        else:
            message["payload"] = json_schema(value_type)
        message["bindings"] = {"kafka": binding}
        return message

    def _record_schema(self, record: type[ModelT]) -> str:
        """The reference of ``record``'s schema, added to the components on first use."""
        # The record's sub-app and name, e.g. page_views.Event: unique in the service, and
        # the same whatever other sub-apps there are.
        module = _short_name(self.app, record.__module__).removesuffix(".models")
        schema_id = f"{module}.{record.__qualname__}"
{%- if avro %}
        if issubclass(record, AvroRecord):
            self.schemas[schema_id] = {
                "schemaFormat": "application/vnd.apache.avro+json;version=1.9.0",
                "schema": record.avro_schema_to_python(),
            }
            return SCHEMAS + schema_id
{%- endif %}
        schema = json_schema(record, ref_template=SCHEMAS + "{model}")
        # Records among its fields: components of their own.
        self.schemas |= schema.pop("$defs", {})
        self.schemas[schema_id] = schema
        return SCHEMAS + schema_id


def _dead_letter_message() -> dict[str, Any]:
    headers: dict[str, dict[str, Any]] = {
        name: {"type": "string", "description": text} for name, text in HEADERS.items()
    }
    headers["dlq.reason"]["enum"] = list(typing.get_args(Reason))
    return {
        "name": "DeadLetter",
        "summary": "A message the service could not process, as it was read.",
        "contentType": "application/octet-stream",
        "headers": {"type": "object", "properties": headers, "required": list(headers)},
        "payload": {"description": "The original value, byte for byte."},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original key, byte for byte."},
                **KAFKA_BINDING,
            }
        },
    }


def _key_schema(key_type: Any) -> dict[str, Any]:
    if key_type is None:
        return {"type": "null", "description": "No key."}
    return json_schema(key_type)


def _sink_topic(sink: Any) -> Any:
    return sink.topic if isinstance(sink, KeyedSink) else sink


def _addresses(channel: Any) -> tuple[str, ...]:
    # In-memory channels, agents given as sinks and topic patterns have no topic names.
    return tuple(channel.topics) if isinstance(channel, TopicT) else ()


def _message_name(value_type: Any) -> str:
    return getattr(value_type, "__name__", "Value")


def _is_record(value_type: Any) -> bool:
    return isinstance(value_type, type) and issubclass(value_type, ModelT)


def _short_name(app: AppT, name: str) -> str:
    return name.removeprefix(f"{app.conf.origin}.")


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


@functools.cache
def _info(package: str) -> dict[str, str]:
    """Title, version and description: the distribution's metadata, from pyproject.toml."""
    distributions = importlib.metadata.packages_distributions().get(package.split(".")[0])
    if not distributions:
        return {"title": package, "version": "unreleased"}
    metadata = importlib.metadata.metadata(distributions[0])
    info = {"title": metadata["Name"], "version": metadata["Version"]}
    if metadata["Summary"]:
        info["description"] = metadata["Summary"]
    return info


def service_app(app: AppT) -> ServiceApp:
    # Views and commands are handed Faust's AppT; the app is always a ServiceApp.
    return cast("ServiceApp", app)


class AsyncAPIDocument(web.View):
    """``/asyncapi.json``: the AsyncAPI document of the service's topics."""

    async def get(self, request: web.Request) -> web.Response:
        return self.json(asyncapi_document(service_app(self.app)))


@AppCommand.from_handler(
    option(
        "--output",
        type=click.File("w", encoding="utf-8"),
        default="-",
        show_default=True,
        help="File to write, or - for standard output.",
    ),
)
async def asyncapi(self: AppCommand, output: TextIO) -> None:
    """Write the AsyncAPI document of the service's topics, as YAML."""
    document = asyncapi_document(service_app(self.app))
    yaml.safe_dump(document, output, sort_keys=False, allow_unicode=True)
