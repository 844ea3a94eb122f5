"""The file `spark-submit` runs: `spark-submit --properties-file <conf> <this file> <accord command>`.

`spark-submit` wants a `.py` file as its application; this one runs the `accord` command line, so
`... submit.py stream serve` is the stream service and `... submit.py backfill --from ...` a backfill,
each building its session with the settings of the environment (`accord stream spark-conf`).
"""

from accord.runtime.cli import main

if __name__ == "__main__":
    main()
