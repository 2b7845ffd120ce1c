"""`python -m moodle_sync` is the `moodle-sync` command."""

from moodle_sync.cli import main

main()
