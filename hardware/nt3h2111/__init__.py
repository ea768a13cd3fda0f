"""NXP NT3H2111 (NTAG I2C plus, 1k): chip model (model.py) and its RF side on UDP (rf_udp.py)."""
