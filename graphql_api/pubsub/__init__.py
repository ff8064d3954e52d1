"""Events across workers: the outbox rows every worker reads (`postgres.OutboxListener`)."""
