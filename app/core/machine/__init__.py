"""This machine: hardware detection, process memory."""
