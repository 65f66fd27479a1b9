"""The orders hub: orders that integrations create and act on."""
