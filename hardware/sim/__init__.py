"""Simulation glue: the buses and devices that connect firmware to the chip models."""
