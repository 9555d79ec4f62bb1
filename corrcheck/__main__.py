"""`python -m corrcheck` runs the same CLI as the `corrcheck` command."""
from .cli import main

if __name__ == "__main__":
    main()
