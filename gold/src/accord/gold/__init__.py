"""Gold: experiment results and daily metrics recomputed from Silver, the counts ledger, the report."""
