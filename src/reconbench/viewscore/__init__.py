"""Scoring images as well as assets: a folder of views on its own (`reconbench evaluate-views`), and the
intermediate multi-view images of two-stage methods (stage attribution). docs/metrics.md.

The seam for a preset's image-metric definitions is `score_views(pred, gt, settings)` in score.py."""

from reconbench.viewscore.score import ViewError, ViewReport, ViewScoring, score_views

__all__ = ["ViewError", "ViewReport", "ViewScoring", "score_views"]
