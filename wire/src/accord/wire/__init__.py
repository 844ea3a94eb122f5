"""The wire contract every Accord component speaks: one definition, imported, never copied.

Modules: `framing` (Confluent framing, the Avro batch body), `headers` (Kafka header names and
encoding), `naming` (subjects and event types), `error_codes` (the gateway's stable codes),
`rules` (the event rules the gateway and Silver share), `vectors` (shared test vectors).
Standard library only, so that every component, the SDK included, can depend on it.
"""
