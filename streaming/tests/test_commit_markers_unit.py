"""Idempotent appends: the marker of a write is found in the table's newest commits by delta-rs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import CommitProperties, Transaction, write_deltalake

from accord.streaming.delta_io import Txn, committed
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.lake import Lake

pytestmark = pytest.mark.unit

ROW = pa.table({"x": [1]})


def commit(path: Path, user_metadata: str | None = None, legacy: Transaction | None = None) -> None:
    properties = CommitProperties(
        custom_metadata={"userMetadata": user_metadata} if user_metadata else None,
        app_transactions=[legacy] if legacy else None,
    )
    write_deltalake(path, ROW, mode="append", commit_properties=properties)


@pytest.fixture
def reader(tmp_path: Path) -> LakeReader:
    return LakeReader(Lake(root=str(tmp_path), checkpoints=str(tmp_path / "_checkpoints")))


def test_a_write_is_committed_up_to_the_version_its_newest_marker_names(
    tmp_path: Path, reader: LakeReader
) -> None:
    table = tmp_path / "t"
    assert not committed(reader, str(table), Txn("stream-a", 0)), "no table yet"
    commit(table, Txn("stream-a", 0).marker())
    commit(table, Txn("stream-b", 9).marker())
    commit(table, Txn("stream-a", 1).marker())

    assert committed(reader, str(table), Txn("stream-a", 1))
    assert committed(reader, str(table), Txn("stream-a", 0))
    assert not committed(reader, str(table), Txn("stream-a", 2)), "the next batch is not written yet"
    assert committed(reader, str(table), Txn("stream-b", 9))
    assert not committed(reader, str(table), Txn("stream-c", 0)), "another query's batches are its own"


def test_the_marker_is_found_behind_commits_of_other_writers(tmp_path: Path, reader: LakeReader) -> None:
    table = tmp_path / "t"
    commit(table, Txn("stream-a", 4).marker())
    for _ in range(20):  # a backfill or a compaction run while the stream was down
        commit(table, "not a marker")
    commit(table)

    assert committed(reader, str(table), Txn("stream-a", 4))
    assert not committed(reader, str(table), Txn("stream-a", 5))


def test_commits_made_with_deltas_own_txn_action_still_count(tmp_path: Path, reader: LakeReader) -> None:
    table = tmp_path / "t"
    commit(table, legacy=Transaction("stream-old", 7))

    assert committed(reader, str(table), Txn("stream-old", 7))
    assert not committed(reader, str(table), Txn("stream-old", 8))
