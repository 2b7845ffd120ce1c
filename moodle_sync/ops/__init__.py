"""Operations: what keeps the service running unattended.

One pipeline at a time (`lock`), the worker's jobs (`scheduler`), every run recorded with its
reason (`ledger`), alarms to the people who act on them (`alerts`), the purge of personal
data past its time (`retention`), and the service's state as `status` reads it (`status`).
"""
