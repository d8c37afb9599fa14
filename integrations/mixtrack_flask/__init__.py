"""mixtrack integration package: mixtrack_flask."""
