"""Instructor side: read a class's grade reports, build a gradebook, collect from GitHub, grade a class.

One module per concern, shared by the commands (autograde/commands/) that parse arguments and print:

- github_setup.py: token, API URL, listing an assignment, what an API status means (`collect`,
  `grade-all`), with the REST client of autograde/github_api.py (below this layer: `report/` uses it too);
- reports.py: reading reports; gradebook.py: rows and the one gradebook writer (`export`,
  `collect`, `grade-all`); roster.py: Classroom's roster and which repository is whose;
- progress.py: the one progress display;
- collector.py, tamper.py: `collect`; identity.py (which repository is whose: listed name, login,
  id), deadline.py (a class at its deadline), grade_all_policy.py (what to grade, resume, the class
  summary), grade_all_runner.py (the grades themselves), chunks.py and workflow.py (the class
  workflow): `grade-all`.

Errors: what the person running a command can act on is raised as `UserError` (autograde/errors.py;
`RosterError` and `DeadlineError` are that type). A failed API call is a `GitHubError`
(autograde/github_api.py), which `github_setup.failure` turns into a `UserError` where the command
cannot go on. One bad report is a `ReportError`, listed and skipped. A function says in its docstring what
else it raises; one that says nothing of the kind raises nothing of its own.
"""
