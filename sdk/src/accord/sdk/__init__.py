"""Accord SDK: send typed product events to the Accord gateway.

from accord.sdk import Client
from accord.sdk.events import Envelope, PageView

with Client("http://127.0.0.1:8080", write_key) as client:
    client.track(PageView(envelope=Envelope(user_id="u-42"), url="https://example.com/pricing"))
"""

from accord.sdk.client import Client as Client
from accord.sdk.config import ClientConfig as ClientConfig
from accord.sdk.counters import Counters as Counters
from accord.sdk.errors import AccordSdkError as AccordSdkError
from accord.sdk.errors import ClientClosedError as ClientClosedError
from accord.sdk.errors import ConfigError as ConfigError
from accord.sdk.errors import InvalidEventError as InvalidEventError
from accord.sdk.errors import InvalidValueError as InvalidValueError
from accord.sdk.errors import MissingFieldError as MissingFieldError
from accord.sdk.errors import NaiveDatetimeError as NaiveDatetimeError
from accord.sdk.errors import NotAnEventError as NotAnEventError
from accord.sdk.errors import QueueFullError as QueueFullError
from accord.sdk.errors import ValueOutOfRangeError as ValueOutOfRangeError
from accord.sdk.errors import WrongTypeError as WrongTypeError
from accord.sdk.rejections import RejectedEvent as RejectedEvent

__all__ = [
    "AccordSdkError",
    "Client",
    "ClientClosedError",
    "ClientConfig",
    "ConfigError",
    "Counters",
    "InvalidEventError",
    "InvalidValueError",
    "MissingFieldError",
    "NaiveDatetimeError",
    "NotAnEventError",
    "QueueFullError",
    "RejectedEvent",
    "ValueOutOfRangeError",
    "WrongTypeError",
]
