"""The device sources as a host-side package (`xinka_firmware`) for the build, host/build.py.

Nothing in this folder is imported on the host; this file is never put on a device."""
