"""``python -m anwang`` is the ``anwang`` command."""

from anwang.cli import main

raise SystemExit(main())
