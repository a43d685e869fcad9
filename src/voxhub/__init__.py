"""voxhub: a self-hosted, real-time voice and text conversation server that runs fully offline."""

from __future__ import annotations

import os

# Every model voxhub loads ships inside a package; nothing may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

__version__ = "0.1.0"
