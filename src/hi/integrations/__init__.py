"""The integration framework, in rooms layered by role (core, models, outbound, contract, outbox, config, engine, console); services use it through api.py only."""
