"""Load user files (Python or JavaScript) and bind their functions to one canonical signature."""
