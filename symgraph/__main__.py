"""`python -m symgraph`: the `symgraph` command."""

from symgraph.cli import main

if __name__ == "__main__":
    main()
