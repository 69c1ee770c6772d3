import sys

from sheets_ops.cli import main

sys.exit(main())
