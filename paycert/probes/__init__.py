"""Probes of the go-live guidelines (002) that are not payments: TLS versions, plain HTTP, bursts, source addresses."""
