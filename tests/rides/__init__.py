"""Tests of the ride file readers and writer."""
