"""Coordinator brokerage: matching in the app, recommendations, shortlists,
first meetings and outcomes."""
