"""llama.cpp in-process: the engine, its backends, installed GPU engine packs."""
