"""hpolab's shipped storage fault suite (hpolab.testing.StorageFaultTestCase) on every storage.

The PostgreSQL cases run where HPOLAB_TEST_POSTGRES_URL names a server (.ci/run starts one);
elsewhere they skip and say so.
"""

from __future__ import annotations

from hpolab.testing import StorageFaultTestCase


class TestStorageFaults(StorageFaultTestCase):
    pass
