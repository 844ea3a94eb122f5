"""`configure_logging`: Accord's loggers at the chosen level, libraries at WARNING, JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from accord.runtime.errors import InvalidSettingError
from accord.runtime.jvm_logs import event_template, log4j2_properties
from accord.runtime.logs import LIBRARY_LOGGERS, configure_logging

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    names = ["", "accord", *LIBRARY_LOGGERS]
    saved = {name: logging.getLogger(name).level for name in names}
    handlers = logging.getLogger().handlers[:]
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


def test_accord_logs_at_the_level_and_libraries_at_warning(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    logging.getLogger("accord.gateway.app").info("gateway started", extra={"port": 8080})
    logging.getLogger("httpx").info('HTTP Request: GET http://127.0.0.1:8081/subjects "HTTP/1.1 200 OK"')
    logging.getLogger("py4j.clientserver").info("Closing down clientserver connection")
    logging.getLogger("some.library").info("chatter")
    logging.getLogger("httpx").warning("retrying")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["msg"]) for line in lines] == [
        ("accord.gateway.app", "gateway started"),
        ("httpx", "retrying"),
    ]
    assert lines[0]["port"] == 8080
    assert lines[0]["level"] == "info"


def test_library_level_can_be_raised_for_debugging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_LIBRARY_LOG_LEVEL", "info")
    configure_logging("DEBUG")
    assert logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("accord.streaming").isEnabledFor(logging.DEBUG)


def test_an_unknown_level_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSettingError, match=r"ACCORD_LOG_LEVEL='loud': expected one of debug, info"):
        configure_logging("loud")
    monkeypatch.setenv("ACCORD_LIBRARY_LOG_LEVEL", "quiet")
    with pytest.raises(InvalidSettingError, match="ACCORD_LIBRARY_LOG_LEVEL='quiet'"):
        configure_logging("INFO")


def test_jvm_configuration_uses_the_json_template_layout() -> None:
    properties = dict(
        line.split(" = ", 1) for line in log4j2_properties("warn", {"org.example": "error"}).splitlines()
    )
    assert properties["appender.json.layout.type"] == "JsonTemplateLayout"
    assert properties["appender.json.layout.eventTemplateUri"] == event_template().as_uri()
    assert properties["rootLogger.level"] == "WARN"
    assert (properties["logger.l0.name"], properties["logger.l0.level"]) == ("org.example", "ERROR")
    # the JVM's lines carry the field names the Python services use
    assert {"ts", "level", "logger", "msg", "exc"} <= set(json.loads(event_template().read_text()))
