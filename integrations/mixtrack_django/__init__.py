"""mixtrack integration package: mixtrack_django."""
