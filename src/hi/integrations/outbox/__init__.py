"""Recording work in the caller's transaction: domain events (dispatched to hooks after the commit) and directives (enqueued)."""
