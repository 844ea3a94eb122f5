"""Accord's event contracts (`.avsc` files) and the `accord schemas` tooling around them."""
