"""Metrics computers: ``medkit_rs.metrics.SeqEvalMetricsComputer`` (also importable from
``medkit_rs.text.metrics.ner``, medkit's module path)."""

from .text.metrics.ner import SeqEvalMetricsComputer

__all__ = ["SeqEvalMetricsComputer"]
