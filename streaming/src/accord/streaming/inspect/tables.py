"""The lake's Delta tables read in this process with delta-rs: only the columns and rows asked for.

Inspection reads a few columns of a few tables; starting a JVM for that costs far more than the
read. The jobs keep writing with Spark; delta-rs reads the same tables (local or S3) as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.streaming.errors import TableNotFoundError
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable


def storage_options(settings: StreamingSettings) -> dict[str, str]:
    """The S3 endpoint, credentials, region and addressing of `settings`, as delta-rs names them."""
    if not settings.uses_s3:
        return {}
    options = {
        "AWS_REGION": settings.s3_region,
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": str(not settings.s3_path_style).lower(),
    }
    if settings.s3_endpoint:
        options["AWS_ENDPOINT_URL"] = settings.s3_endpoint
        options["AWS_ALLOW_HTTP"] = str(settings.s3_endpoint.startswith("http://")).lower()
    if settings.s3_access_key and settings.s3_secret_key:
        options["AWS_ACCESS_KEY_ID"] = settings.s3_access_key.get_secret_value()
        options["AWS_SECRET_ACCESS_KEY"] = settings.s3_secret_key.get_secret_value()
    return options


class LakeReader:
    """Reads the tables of one lake, with the storage options its settings give."""

    def __init__(self, lake: Lake, options: dict[str, str] | None = None) -> None:
        self.lake = lake
        self._options = options or {}
        self._latest: dict[str, DeltaTable] = {}

    @classmethod
    def from_settings(cls, settings: StreamingSettings) -> LakeReader:
        """The reader of the lake `settings` point at."""
        return cls(Lake.from_settings(settings), storage_options(settings))

    def table(self, path: str) -> DeltaTable | None:
        """The Delta table at `path` (its newest version), or None when nothing was written there yet."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError as MissingDeltaTable

        try:
            return DeltaTable(path, storage_options=self._options or None)
        except MissingDeltaTable:
            return None

    def latest(self, path: str) -> DeltaTable | None:
        """Like `table`, for a caller that asks again and again (the stream, once per batch).

        The table is kept and brought up to date with the commits made since, instead of being
        loaded again from its last checkpoint.
        """
        known = self._latest.get(path)
        if known is not None:
            known.update_incremental()
            return known
        table = self.table(path)
        if table is not None:
            self._latest[path] = table
        return table

    def exists(self, path: str) -> bool:
        """True when `path` holds a Delta table."""
        return self.table(path) is not None

    def read(self, path: str, columns: Sequence[str], where: ds.Expression | None = None) -> pa.Table | None:
        """`columns` of the rows matching `where` (pushed down to files and row groups), or None
        when there is no table at `path`."""
        table = self.table(path)
        if table is None:
            return None
        return table.to_pyarrow_dataset().to_table(columns=list(columns), filter=where)

    def require(self, path: str, columns: Sequence[str], where: ds.Expression | None = None) -> pa.Table:
        """Like `read`, for a table the command cannot do without.

        Raises:
            TableNotFoundError: there is no Delta table at `path`.
        """
        rows = self.read(path, columns, where)
        if rows is None:
            raise TableNotFoundError(path)
        return rows


def header_values(headers: pa.Array | pa.ChunkedArray, name: str) -> pa.Table:
    """`(row, value)` of the first Kafka header called `name` of each row that has one (bytes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # parent indices of a chunked list count from each chunk's start: one chunk keeps them row numbers
    if isinstance(headers, pa.ChunkedArray):
        headers = headers.combine_chunks()
    flat = pc.list_flatten(headers)
    named = pc.equal(pc.struct_field(flat, "key"), name)
    found = pa.table(
        {
            "row": pc.filter(pc.list_parent_indices(headers), named),
            "value": pc.filter(pc.struct_field(flat, "value"), named),
        }
    )
    first = found.group_by("row", use_threads=False).aggregate([("value", "first")])
    return first.rename_columns({"value_first": "value"})
