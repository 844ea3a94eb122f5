"""Accord's local runtime: the `accord` command line and the supervisor of native servers."""
