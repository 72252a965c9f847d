"""Fairness of need owners, seen by proposers: after a decision on its
proposal, the proposer rates how the owner dealt with it (clear reason, on
time, respectful; 1–5 each, once per proposal); the averages show as a badge
on named needs once the owner has at least five ratings."""
