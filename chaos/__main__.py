"""`python -m chaos`: see runner.py."""

from chaos.runner import main

if __name__ == "__main__":
    main()
