"""Case files (个案): a social worker's file on one resident, with entries and a log of every read."""
