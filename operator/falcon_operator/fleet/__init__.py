"""The simulated GPU fleet: a catalog of GPUs and prices, and a performance model that answers
"what would a trial measure?" for an operator profile and a configuration."""
