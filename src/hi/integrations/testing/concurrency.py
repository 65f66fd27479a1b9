"""Running calls at once from several threads, for race tests against the database."""
from __future__ import annotations

import threading

from django.db import connection


def at_once(n: int, call) -> list:
    """Run `call` in `n` threads released together (each closes its own connection); return the results."""
    barrier, results = threading.Barrier(n), []

    def run():
        """Wait for the others, call, and close this thread's connection."""
        try:
            barrier.wait()
            results.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
