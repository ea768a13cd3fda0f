# Chip drivers that take a bus object (micropython-lib's manifest format). A device requires
# this manifest with the chips it carries: require("drivers", library="xinka",
# chips=("nt3h2111",)); on its own (a mip index, `mpremote mip install`) it is every driver.
metadata(description="Chip drivers: NXP NT3H2111 NTAG I2C plus (I2C), NXP PN532 (UART HSU), "
                     "SSD1306 OLED (I2C)",
         version="0.1.0")

options.defaults(chips=("nt3h2111", "pn532", "ssd1306"))

for chip in options.chips:
    module(chip + ".py")
