"""The integration framework, in rooms layered by role (core, models, outbound, contract, outbox, config, engine, console)."""
# Services use it through api.py only (the import contracts in .importlinter say so).
