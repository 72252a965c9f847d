"""Audit screens: the trail for staff, owners' views of forwarded proposals,
and (on the proposal page) when the owner first opened a proposal."""
