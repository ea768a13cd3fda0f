"""The terminal's /main.py on an ESP32-S3 (MicroPython runs it after boot.py).

The build (host/build.py) copies this file to /main.py and the rest of the terminal firmware,
compiled, to /lib; board_esp32s3.run() builds the board and runs the check-in loop (app.py).
"""
import board_esp32s3

board_esp32s3.run()
