"""`accord demo` and `accord simulate`: the whole platform on this machine, fed with simulated traffic
whose truth file the lake's counts and Gold's results are checked against."""
