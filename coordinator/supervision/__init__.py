"""Supervision (督导) of stations: visits, check-list findings and their follow-ups; cases shared at
exchange sessions and case showcases."""
