"""The matcher's app features around the rankings: coordinators' judgments
(feedback that can be exported as qrels), matching-need alerts on publish and
a weekly digest (opt-in, unsubscribe without logging in)."""
