"""Other computers: their memory and devices used through llama.cpp's RPC backend."""
