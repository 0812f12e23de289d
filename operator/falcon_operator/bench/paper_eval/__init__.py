"""``make paper-eval``: the Falcon paper's seven evaluations, reproduced in one report.

One module per evaluation (or pair of evaluations that share their runs): ``accuracy`` (1 and 3,
read from committed benchmark results), ``online`` (2, the search and online time against
Morphling), ``path`` (4, one unseen model's search path), ``sweeps`` (5 and 6, the KOP threshold
and the PCA cut-off), ``practical`` (7, recommended vs optimal on the simulated fleet);
``figures`` draws them, ``doc`` writes docs/evaluation.md and ``run`` ties them together.
"""
