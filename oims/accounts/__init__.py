"""Accounts: off-boarding (disable/re-enable users and organisations, sign out
everywhere), a person's data export and deletion (pseudonymisation)."""
