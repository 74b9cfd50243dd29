"""NATS plumbing: broker, streams, the event store, consumers and dead letters."""
