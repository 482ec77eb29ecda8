"""`python -m flymodel` runs the flymodel command line."""

from flymodel.cli import main

raise SystemExit(main())
