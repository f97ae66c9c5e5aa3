"""The fine-tuning records, re-exported from their home :mod:`hpolab.records`."""

from __future__ import annotations

from hpolab.records import DEFAULT_TEMPLATE, Example, PromptTemplate, Record, Records, format_config

__all__ = ["DEFAULT_TEMPLATE", "Example", "PromptTemplate", "Record", "Records", "format_config"]
