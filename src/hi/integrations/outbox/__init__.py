"""Recording work in the caller's transaction: domain events (published, then dispatched to hooks after the commit) and directives (enqueued)."""
