"""The REST API by resource: one router per module, included by `accord.registry.app`."""
