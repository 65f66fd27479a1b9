"""The integration framework: types, gateways, lifecycle, attributes, entities and the console."""
