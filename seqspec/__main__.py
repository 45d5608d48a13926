"""``python -m seqspec``: the same command line as the ``seqspec`` console script."""

from seqspec.cli import main

raise SystemExit(main())
