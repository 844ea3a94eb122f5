"""How the platform's Kafka clients reach a secured cluster: TLS and SASL from `ACCORD_KAFKA_*`.

One set of settings, written out for both client libraries: librdkafka (the gateway, the
registry, the command-line tools, through confluent-kafka) and the Java client inside Spark's
Kafka source (`kafka.`-prefixed source options). The two name some properties differently
(`sasl.mechanisms` / `sasl.mechanism`, credentials as properties / as a JAAS line, a CA file as
`ssl.ca.location` / a PEM trust store), which is why the settings are Accord's own and not a
copy of either library's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.errors import InvalidSettingError

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

_LOGIN_MODULES: dict[str, str] = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


class KafkaSecurity(BaseSettings):
    """TLS and SASL of the Kafka clients (`ACCORD_KAFKA_SECURITY_PROTOCOL`, `ACCORD_KAFKA_SASL_*`,
    `ACCORD_KAFKA_SSL_CA_LOCATION`); the default is a plaintext cluster, as the local one is."""

    model_config = SettingsConfigDict(env_prefix="ACCORD_KAFKA_", extra="ignore")

    security_protocol: SecurityProtocol = Field(default="PLAINTEXT", description="as Kafka names it")
    sasl_mechanism: SaslMechanism | None = Field(default=None, description="with a SASL_* protocol")
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = Field(
        default=None, description="PEM file of the CA of the brokers' certificates (default: the system's)"
    )

    @model_validator(mode="after")
    def _sasl_is_complete(self) -> Self:
        if not self.security_protocol.startswith("SASL_"):
            return self
        for variable, value in (
            ("ACCORD_KAFKA_SASL_MECHANISM", self.sasl_mechanism),
            ("ACCORD_KAFKA_SASL_USERNAME", self.sasl_username),
            ("ACCORD_KAFKA_SASL_PASSWORD", self.sasl_password),
        ):
            if value is None:
                raise InvalidSettingError(
                    variable, None, f"required with ACCORD_KAFKA_SECURITY_PROTOCOL={self.security_protocol}"
                )
        return self

    def _sasl(self) -> tuple[str, str, str] | None:
        """Mechanism, username and password when the clients authenticate with SASL."""
        if not self.security_protocol.startswith("SASL_"):
            return None
        if self.sasl_mechanism is None or self.sasl_username is None or self.sasl_password is None:
            return None  # refused by the validator
        return self.sasl_mechanism, self.sasl_username, self.sasl_password.get_secret_value()

    def librdkafka(self) -> dict[str, str]:
        """The settings as librdkafka properties (merged into every confluent-kafka client's config)."""
        if self.security_protocol == "PLAINTEXT":
            return {}
        config: dict[str, str] = {"security.protocol": self.security_protocol.lower()}
        sasl = self._sasl()
        if sasl is not None:
            mechanism, username, password = sasl
            config |= {"sasl.mechanisms": mechanism, "sasl.username": username, "sasl.password": password}
        if self.ssl_ca_location is not None:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config

    def spark_options(self) -> dict[str, str]:
        """The settings as options of Spark's Kafka source (Java client properties, `kafka.`-prefixed)."""
        if self.security_protocol == "PLAINTEXT":
            return {}
        options: dict[str, str] = {"kafka.security.protocol": self.security_protocol}
        sasl = self._sasl()
        if sasl is not None:
            mechanism, username, password = sasl
            options |= {
                "kafka.sasl.mechanism": mechanism,
                "kafka.sasl.jaas.config": f"{_LOGIN_MODULES[mechanism]} required "
                f"username={_jaas_quoted(username)} password={_jaas_quoted(password)};",
            }
        if self.ssl_ca_location is not None:
            options |= {
                "kafka.ssl.truststore.type": "PEM",
                "kafka.ssl.truststore.location": str(self.ssl_ca_location),
            }
        return options


def _jaas_quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
