"""The RideBalance ANT+ gateway: a stick near the bike, pages to Home Assistant.

Runs without Home Assistant (``scripts/gateway``, a Raspberry Pi beside the
trainer); ``wire`` is the format it shares with the integration's gateway source.
"""
