# The worker badge on an ESP32-C3 (micropython-lib's manifest format): everything it runs from
# /lib. The boot entry (main_esp32.py -> /main.py) and the pin map
# (hardware/badge/board.json -> /board.json) are not modules; host/build.py adds them
# (docs/firmware.md).
metadata(description="Xinka worker badge (ESP32-C3 + NT3H2111): signed one-time tokens on an "
         "NFC tag, check-in answers, provisioning mode on USB serial", version="0.1.0")

add_library("xinka", "..")         # firmware/: the library and the drivers beside the apps
require("lib", library="xinka", modules=("cbor", "cose", "drbg", "ecdsa", "frames", "ndef", "p256",
                                          "p256_comb", "sram", "tokens"))
require("drivers", library="xinka", chips=("nt3h2111",))

module("board_esp32c3.py")
module("boot_select.py")
module("identity.py")
module("leds.py")
module("main.py")
module("provision.py")
module("serial_link.py")
module("state.py")
module("store.py")
