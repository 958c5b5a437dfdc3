"""Writes of the enrolment app. Views, forms, commands and tasks call these, nothing else."""
