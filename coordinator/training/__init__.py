"""Training courses (培训班): sessions on the calendar, enrolment, training hours against a requirement."""
