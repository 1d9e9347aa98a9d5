"""Notifications to people: the channels that deliver them and what each delivery came to."""
