"""The ``falcon`` command line."""
