import sys

from kit.testhosts.cli import main

sys.exit(main())
