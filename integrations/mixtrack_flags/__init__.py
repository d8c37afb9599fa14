"""mixtrack integration package: mixtrack_flags."""
