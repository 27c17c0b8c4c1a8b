"""Quantdesk: run a local LLM well on the machine you have."""

__version__ = "0.1.0"
