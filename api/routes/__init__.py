"""HTTP routes, one module per room; each stays thin: parse, authorize, call the client, shape."""
