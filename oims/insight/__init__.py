"""Insight: the KPI dashboard, its charts and the CSV exports."""
