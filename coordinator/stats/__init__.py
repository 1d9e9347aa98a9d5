"""Statistics: person-times, hours, coverage, incrementally maintained roll-ups, exports and reports."""
