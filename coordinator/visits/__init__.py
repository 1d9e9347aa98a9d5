"""Home visits (入户走访): visit policies, the due list, planning itineraries, visit records."""
