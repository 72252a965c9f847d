"""Proposals: SMEs, universities, institutes and startups answer published needs.

Views in `views.py`, the rules in `services.py`, the timestamped receipt in
`receipts.py`; stage transitions go through `oims.workflow.change_stage`.
"""
