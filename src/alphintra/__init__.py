"""Alphintra: a trading engine service for machine-learning trading signals."""

__version__ = "0.1.0"
