"""A throwaway Apache Kafka broker for the template's tests and benchmarks: ``broker.py``, from Maven Central's jars."""
