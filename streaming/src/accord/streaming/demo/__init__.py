"""`accord demo`: the whole platform on this machine, with simulated traffic checked against its truth."""
