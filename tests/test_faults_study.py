"""The shipped study fault suite, run over memory, a journal file, SQLite and PostgreSQL (when configured)."""

from __future__ import annotations

from hpolab.testing import StudyFaultTestCase


class TestStudyFaults(StudyFaultTestCase):
    pass
