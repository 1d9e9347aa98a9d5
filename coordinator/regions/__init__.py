"""Regions above the stations: province → city → county → township (乡镇/街道)."""
