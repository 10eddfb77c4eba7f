"""Tests of the ANT+ layer."""
