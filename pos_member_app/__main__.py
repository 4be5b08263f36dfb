"""``python -m pos_member_app``: the same as ``pos-member``."""

import sys

from pos_member_app.cli import main

sys.exit(main())
