"""One Spark application appending to a shared Delta table, as the several-writers test starts it.

`python lake_writer.py WRITER APPENDS TABLE GO_FILE [--create]`: with the settings of the
environment, (create the table,) say `ready`, wait until GO_FILE exists, append the rows
(WRITER, 0) … (WRITER, APPENDS-1), one commit each.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings

SCHEMA = "writer string, seq int"


def main(writer: str, appends: int, table: str, go: Path, create: bool) -> None:
    spark = build_session(StreamingSettings(), f"lake-writer-{writer}")
    if create:
        spark.createDataFrame([], SCHEMA).write.format("delta").save(table)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.05)
    for seq in range(appends):
        spark.createDataFrame([(writer, seq)], SCHEMA).write.format("delta").mode("append").save(table)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), "--create" in sys.argv[5:])
