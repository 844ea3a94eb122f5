"""Operational inspection of the pipeline: the counts ledger per stage and hour, and where one event is."""
