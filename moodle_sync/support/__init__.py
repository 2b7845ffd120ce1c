"""Support tools: what support staff and programme leaders use beside the scheduled run.

`reconcile` compares the store with live Moodle for a course or a person (and repairs it on
request); `reports` and `reports_html` draw the cohort's progression and deadlines from the
store. They may read through the pull and the rules; nothing in the pipeline imports them.
"""
