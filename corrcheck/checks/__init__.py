"""The checks: the problems a run checks, and user vs reference / finite differences of the user's forward."""
