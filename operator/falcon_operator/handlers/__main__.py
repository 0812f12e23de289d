"""``python -m falcon_operator.handlers [ARGS]`` is ``falcon operator run [ARGS]``."""

import sys

from falcon_operator.cli.operator import main

sys.exit(main(sys.argv[1:]))
