"""Follow-up after the first meeting: check-ins 2, 6 and 12 weeks after a
held meeting, sent by `flask oims send-checkins` (cron), answered by either
party from a signed e-mail link; unanswered ones surface as stalled cases."""
