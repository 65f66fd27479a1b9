"""Run the demo provider's simulator in the foreground (started by `make run`)."""
from django.core.management.base import BaseCommand

from hi.services.demo.simulator import DemoSimulator


class Command(BaseCommand):
    """manage.py demo_simulator [--port 8001]."""

    help = "Run the demo provider's simulator on 127.0.0.1."

    def add_arguments(self, parser) -> None:
        """--port."""
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, port: int, **options) -> None:
        """Serve until interrupted."""
        simulator = DemoSimulator(port=port, stream=True)
        self.stdout.write(f"Demo provider simulator on {simulator.url} (API keys: demo-key, demo-key-2; live updates at {simulator.stream.url})")
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
