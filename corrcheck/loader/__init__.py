"""Loading the user's files (Python or JavaScript) or callables into UserFunctions, and running user code under a guard."""
