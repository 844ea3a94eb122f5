"""The gateway's HTTP routes, one router per concern; `accord.gateway.app` assembles them."""
