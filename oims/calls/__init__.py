"""Themed calls: a bureau or a partner support body runs a time-boxed call
grouping published needs of several owners, with a public page, a deadline
and the call's KPI for those who run it."""
