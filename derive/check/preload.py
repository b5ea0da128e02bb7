"""What the pool's forkserver imports before it forks workers: the checker, warm, and then frozen.

gc.freeze() moves everything imported so far out of the collector's sight: the workers forked from
the server do not copy those pages by collecting them, and the server itself, which holds SymPy,
exits at once when its parent does (its last collection would walk all of it) instead of a
fraction of a second later. Imported only by the forkserver (derive.check.pool.PRELOAD).
"""

import gc

import derive.check.network
import derive.check.worker  # noqa: F401

gc.freeze()
