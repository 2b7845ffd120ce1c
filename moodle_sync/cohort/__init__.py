"""The store seen by the rules, in three jobs.

`rows` reads the mapped courses' rows once (one query per table); `facts` builds each
participant's facts from them and evaluates the cohort once per run; `own_dates` answers the
pull's question of which students' own dates Moodle must be asked for.
"""
