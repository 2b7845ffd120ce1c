"""`make chaos`: seeded fortnights of the whole pipeline against a faulty sandbox Moodle.

A development tool, kept beside `benchmarks/` rather than inside `moodle_sync/`: it is not
shipped with the service, and it drives the installed `moodle-sync` command from outside, as
an operator's scheduler would. See runner.py for what one schedule does and what it checks.
"""
