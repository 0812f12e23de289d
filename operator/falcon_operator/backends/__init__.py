"""Trial backends: things that answer "run this configuration and tell me what happened"."""
