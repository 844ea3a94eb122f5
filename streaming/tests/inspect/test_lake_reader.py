"""delta-rs reads the lake where the jobs write it: a local folder, or S3 with the stream's settings."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from deltalake import write_deltalake

from accord.streaming.errors import TableNotFoundError
from accord.streaming.inspect.tables import LakeReader, header_values, storage_options
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings
from accord.streaming.testing import S3Server
from accord.wire.headers import EVENT_ID

pytestmark = pytest.mark.integration

ROWS = pa.table(
    {
        "event_id": ["a", "b", "c"],
        "event_date": ["2026-03-02", "2026-03-02", "2026-03-03"],
        "is_late": [False, True, False],
    }
)


def test_a_local_table_is_read_by_column_and_filter(tmp_path: Path) -> None:
    lake = Lake(root=str(tmp_path), checkpoints=str(tmp_path / "_checkpoints"))
    reader = LakeReader(lake)
    assert not reader.exists(lake.silver)
    assert reader.read(lake.silver, ["event_id"]) is None
    with pytest.raises(TableNotFoundError, match="has the pipeline written anything yet"):
        reader.require(lake.silver, ["event_id"])

    write_deltalake(lake.silver, ROWS, partition_by=["event_date"])
    rows = reader.require(lake.silver, ["event_id", "is_late"], ds.field("event_date") == "2026-03-02")
    assert rows.column_names == ["event_id", "is_late"]
    assert sorted(rows["event_id"].to_pylist()) == ["a", "b"]


def test_an_s3_lake_is_read_with_the_streams_settings(s3_server: S3Server) -> None:
    settings = s3_server.lake_settings(StreamingSettings())
    options = storage_options(settings)
    assert options["AWS_ENDPOINT_URL"] == s3_server.endpoint
    assert options["AWS_ALLOW_HTTP"] == "true"
    assert options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] == "false"
    reader = LakeReader.from_settings(settings)
    assert not reader.exists(reader.lake.silver)

    # the S3 server refuses a second writer of a commit (If-None-Match), as S3 does
    write_deltalake(reader.lake.silver, ROWS, storage_options={**options, "conditional_put": "etag"})
    rows = reader.require(reader.lake.silver, ["event_id"], ds.field("is_late"))
    assert rows["event_id"].to_pylist() == ["b"]


def test_header_values_are_the_first_header_of_that_name_per_row() -> None:
    headers = pa.array(
        [
            [{"key": EVENT_ID, "value": b"e1"}],
            None,
            [],
            [{"key": "other", "value": b"x"}, {"key": EVENT_ID, "value": b"e4"}],
            [{"key": EVENT_ID, "value": b"first"}, {"key": EVENT_ID, "value": b"second"}],
        ],
        pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())])),
    )
    found = header_values(pa.chunked_array([headers[:2], headers[2:]]), EVENT_ID)
    assert sorted(zip(found["row"].to_pylist(), found["value"].to_pylist(), strict=True)) == [
        (0, b"e1"),
        (3, b"e4"),
        (4, b"first"),
    ]
