"""GGUF files: reading and checking headers, quant names."""
