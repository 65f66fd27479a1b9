"""Background execution and provider requests: the worker and its slots, directive execution, the schedule, leases, inbound webhooks, websocket listeners."""
