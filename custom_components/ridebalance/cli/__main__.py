"""`python -m custom_components.ridebalance.cli`: what scripts/ridebalance runs."""

import sys

from . import main

sys.exit(main())
