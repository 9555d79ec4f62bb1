"""The human report (Rich) and its export: with the CLI, the only code that writes to the terminal."""
