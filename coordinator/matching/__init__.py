"""Matching: who fills each open role. ``engine`` is pure; ``service`` feeds it from the database."""
