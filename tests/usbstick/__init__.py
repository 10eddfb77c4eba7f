"""A simulated ANT+ USB stick at the pyusb level, for running the real openant.

The layers, outermost first: :mod:`.backend` is a ``usb.backend`` that pyusb and
openant's own ``USBDriver`` find and open; :mod:`.firmware` is the stick's ANT
side (replies, channels, search, events); :mod:`.air` holds the rider's devices,
built on the project's byte-exact page encoders; :mod:`.clock` is the simulated
time every layer shares, so no test waits wall-clock seconds for the radio.
"""
