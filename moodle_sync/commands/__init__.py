"""The sub-commands of `moodle-sync`, one module per concern; `cli.py` assembles them."""
