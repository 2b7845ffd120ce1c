"""Support tools: what support staff and programme leaders use beside the scheduled run.

`reconcile` compares the store with live Moodle for a course or a person and `repair` mends
it on request (`reconcile --apply`); `reports` and `reports_html` draw the cohort's
progression and deadlines from the store; `history` is one person's messages and statuses.
They may read through the pull, the rules and the run; nothing in the pipeline imports them.
"""
