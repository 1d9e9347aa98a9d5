"""Confirm-or-release: the link and reply keywords of the day-before reminder, the answers, and
each event's at-risk list."""
