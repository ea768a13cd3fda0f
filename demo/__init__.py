"""The whole system on one machine, without hardware: the README's first command.

The top of the import graph (docs/architecture.md): it wires the verifier, the provisioning
tool, the desk and ESP32 terminals and the simulated badges together; nothing imports it.
"""
