# The check-in terminal on an ESP32-S3 (micropython-lib's manifest format): everything it runs
# from /lib. The boot entry (main_esp32.py -> /main.py), the pin map
# (hardware/terminal/board.json -> /board.json) and the configuration under /flash are not
# modules; host/build.py and `provision terminal flash` add them (docs/firmware.md).
metadata(description="Xinka check-in terminal (ESP32-S3 + PN532): offline verdicts, a journal "
         "on flash, sync to the verifier", version="0.1.0")

add_library("xinka", "..")         # firmware/: the library and the drivers beside the apps
require("lib", library="xinka", modules=("cbor", "cose", "drbg", "linkcode", "p256", "p256_comb",
                                          "passthrough", "revocation", "sram", "tokens", "verify"))
require("drivers", library="xinka", chips=("pn532", "ssd1306"))

module("app.py")
module("board_esp32s3.py")
module("checks.py")
module("clock.py")
module("display.py")
module("feedback.py")
module("httpc.py")
module("journal.py")
module("lists.py")
module("status.py")
module("sync.py")
