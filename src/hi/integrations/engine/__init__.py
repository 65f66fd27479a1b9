"""Background execution and provider requests: the worker and its slots, directives, the schedule, leases, inbound webhooks, listeners."""
