"""The messaging hub: customers (contacts) and the messages hi exchanges with them through messaging integrations."""
