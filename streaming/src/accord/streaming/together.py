"""Independent Spark actions of one micro-batch, run at the same time.

A micro-batch's jobs are small: most of each one's time goes to planning, scheduling and the
Delta commit, which leave the cores idle. Two writes that do not depend on each other (Bronze and
Silver; the event-id index and Silver, where a commit marker makes either order safe) overlap
those waits. Each action after the first runs on a `pyspark.InheritableThread`, which carries the
caller's local properties (the batch's job group, so its jobs are counted and cancelled with the
batch) to the JVM thread its jobs run on.
"""

from __future__ import annotations

from collections.abc import Callable


def run_together(*actions: Callable[[], object]) -> None:
    """Run `actions` at the same time (the first on this thread) and return when all have ended.

    Raises:
        BaseException: the error of the first action, in the order given, that failed; it is
            raised only after every action has ended, so none is left running.
    """
    from pyspark import InheritableThread

    errors: list[BaseException | None] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            actions[index]()
        except BaseException as exc:  # handed to the caller's thread below
            errors[index] = exc

    threads = [InheritableThread(target=run, args=(index,), daemon=True) for index in range(1, len(actions))]
    for thread in threads:
        thread.start()
    if actions:
        run(0)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
