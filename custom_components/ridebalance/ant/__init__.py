"""ANT+ decoding, device tracking and encoding (plain Python, no Home Assistant)."""
