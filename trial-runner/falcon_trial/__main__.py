"""``python -m falcon_trial``: the same as the ``falcon-trial`` command."""

import sys

from falcon_trial.cli import main

sys.exit(main())
