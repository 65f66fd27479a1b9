"""The WhatsApp integration: customer messages through Meta's WhatsApp Business Cloud API."""
